check check-gaps.tac
