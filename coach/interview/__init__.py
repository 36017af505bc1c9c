"""Mock interviews: a state machine that asks, grades, follows up and reports."""
