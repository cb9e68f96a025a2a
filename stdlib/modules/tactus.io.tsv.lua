-- require("tactus.io.tsv"): tab-separated files, as tactus.io.csv does
-- comma-separated ones (a field may not contain a tab or a newline).
return dsl.delimited("\t", "tactus.io.tsv")
