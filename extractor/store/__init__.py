"""What is kept: the contract JSON export and import (``contract``) and the review database with its
migrations (``database``, ``migrations``). The store stores; it never runs review rules."""
