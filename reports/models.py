# Report artifacts arrive with the reports issue.
