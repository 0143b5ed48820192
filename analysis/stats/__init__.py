"""Statistics on the model's outputs: replicates, paired comparisons, the question, regression, Table 1."""
