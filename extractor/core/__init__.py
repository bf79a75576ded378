"""What every stage shares: the document and form records, the form vocabulary, figures and
quantities, errors and the review configuration. Imports nothing else of the package."""
