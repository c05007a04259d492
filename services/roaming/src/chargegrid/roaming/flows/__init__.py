"""What roaming sends partners about their drivers' charging: sessions and CDRs.

Facts come from session.events.v1 and billing.events.v1; a session or CDR belongs to the
partner whose token was used (stored partner tokens, also those answered in real time), and
goes to that partner only, through the outbox.
"""
