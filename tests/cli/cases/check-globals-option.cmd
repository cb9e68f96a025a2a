check --globals triagr,PROJECT check-gaps.tac
