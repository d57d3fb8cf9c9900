"""Why the model scores as it does: one client's SHAP contributions and reason codes (`local`), what drives
the scores overall beside a glass-box model (`overall`), their figures, and recourse."""
