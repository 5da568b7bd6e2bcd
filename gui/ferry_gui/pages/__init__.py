"""One QWizardPage per step: start, backup, connect, preview, migrate, verify, finish."""
