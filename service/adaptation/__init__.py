"""Site-adapted models: what a site's moderators decided, learnt on top of the shipped model.

Each approve or reject a moderator makes is a label on that site's own comments. `fit` trains
a small head (the shipped model's logits plus a sparse residual on the shipped featuriser's
hashed n-grams) on those labels; `gate` compares it with the current model on the newest
decisions and says, with its figures, whether it may be deployed; `model.Adapter` applies a
deployed head to new comments (numpy only). `store` is the database and Flask side.
"""
