"""What the bank must be able to show about the model: fairness between groups, drift of the population and
its French wording, and the model card."""
