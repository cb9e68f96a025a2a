check v010-forms.tac
