"""The pages of the tablet web app, one module per area."""
