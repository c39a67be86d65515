"""CI webhooks: who signed a delivery (`signatures`) and what it asks for (`payloads`)."""
