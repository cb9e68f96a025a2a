check --format json tree
