"""The moderation domain: text normalisation, word lists and the decision policy. No Flask, no SQL."""
