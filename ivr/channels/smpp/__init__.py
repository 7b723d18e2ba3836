"""SMS over SMPP 3.4: operator links (smpp34 does the PDUs), the text encodings, multipart messages,
delivery receipts, routing by operator prefix and the configuration of `ivr serve --smsc FILE`."""
