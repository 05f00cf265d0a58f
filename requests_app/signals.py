"""What requests_app tells the apps that build on it (partners), without importing them."""

from django.dispatch import Signal

# A request was submitted (or submitted again): its works and claimed matches are final for now.
# Sent inside the submission's transaction, with `ticket`; receivers record what it conflicts with.
ticket_submitted = Signal()
