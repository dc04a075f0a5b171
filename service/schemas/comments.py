"""Schemas of the public comments API (the embed)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..engagement.rules import MAX_COUNT_IDS, MAX_FEATURED
from .common import CleanString, CursorQuerySchema, QueryInteger, StrictInteger

MAX_TEXT = 5000


class ArticleRefSchema(Schema):
    id = CleanString(max_length=200, required=True, metadata={"description": "the site's own article id"})
    url = fields.Url(
        required=True, schemes={"http", "https"}, validate=validate.Length(max=2000), require_tld=False
    )
    title = CleanString(max_length=500, required=True)


class AuthorInSchema(Schema):
    name = CleanString(max_length=80, required=True, metadata={"description": "shown publicly"})
    email = fields.Email(
        validate=validate.Length(max=320),
        metadata={"description": "private: moderators only; a claim, unless in the reader_token"},
    )
    user_id = CleanString(
        max_length=200,
        metadata={
            "description": "a claim shown to moderators; it never carries standing (send a reader_token)"
        },
    )


TOKEN = {"validate": validate.Length(min=1, max=4096)}


class CommentCreateSchema(Schema):
    article = fields.Nested(ArticleRefSchema, required=True)
    parent_id = StrictInteger(
        validate=validate.Range(min=1, max=2**53), metadata={"description": "reply to this approved comment"}
    )
    author = fields.Nested(
        AuthorInSchema,
        metadata={
            "description": "required without a reader_token; with one, the token's name and e-mail win"
        },
    )
    text = CleanString(max_length=MAX_TEXT, one_line=False, required=True)
    reader_token = fields.String(
        **TOKEN,
        metadata={
            "description": "the site's signed word on its signed-in reader (a JWT, HS256, with the site's"
            " SSO secret: sub, name, optional email, iat, exp within 24 h); 401 when not valid"
        },
    )
    article_token = fields.String(
        **TOKEN,
        metadata={
            "description": "a signed article claim (article: {id, url, title}):"
            " sets the article's URL and title"
        },
    )
    render_token = fields.String(
        **TOKEN, metadata={"description": "the token POST /v1/render-tokens gave when the form was shown"}
    )
    notify_replies = fields.Boolean(
        load_default=False,
        metadata={
            "description": "e-mail the author when replies to this comment are published (needs an"
            " e-mail: the reader token's, or author.email); every e-mail has a one-click unsubscribe link"
        },
    )
    honeypot = fields.String(
        validate=validate.Length(max=500),
        metadata={"description": "the embed's hidden field: people leave it empty"},
    )

    @validates_schema(skip_on_field_errors=False)
    def _someone_wrote_it(self, data, **kwargs):
        if "author" not in data and "reader_token" not in data:
            raise ValidationError("is required without a reader_token", "author")


class CommentCreatedSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["pending", "approved", "held", "rejected"]),
        metadata={
            "description": "approved: published; pending or held: awaiting review; rejected: not published"
        },
    )
    published = fields.Boolean(required=True)
    article_id = fields.String(required=True)
    parent_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    author_token = fields.String(
        required=True,
        metadata={
            "description": "the author's secret proof (shown once, kept only as a hash): send it as the"
            " Author-Token header to edit or delete the comment, or to see it while it awaits review"
        },
    )
    editable_until = fields.DateTime(
        allow_none=True, metadata={"description": "the end of the site's edit window; null: no edits"}
    )


class OwnCommentSchema(Schema):
    """The author's view of their comment after an edit: decided again, like a new comment."""

    id = fields.Integer(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["pending", "approved", "held", "rejected"]),
        metadata={
            "description": "approved: published; pending or held: awaiting review (the author alone sees it)"
        },
    )
    published = fields.Boolean(required=True)
    article_id = fields.String(required=True)
    parent_id = fields.Integer(allow_none=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    edited_at = fields.DateTime(allow_none=True)
    editable_until = fields.DateTime(allow_none=True)


class CommentEditSchema(Schema):
    text = CleanString(max_length=MAX_TEXT, one_line=False, required=True)


class AuthorOutSchema(Schema):
    name = fields.String(required=True)


class PublicCommentSchema(Schema):
    """What readers see: no e-mail, no user id, no scores."""

    id = fields.Integer(required=True)
    parent_id = fields.Integer(allow_none=True)
    author = fields.Nested(AuthorOutSchema, required=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    likes = fields.Integer(required=True, metadata={"description": "readers' likes, one per reader"})
    featured = fields.Boolean(required=True, metadata={"description": "an editor's pick"})
    edited_at = fields.DateTime(
        allow_none=True, metadata={"description": "when the author last edited it; null: never"}
    )
    deleted = fields.Boolean(
        dump_default=False,
        metadata={"description": "a deleted comment (no author, no text) kept for the replies under it"},
    )
    pending = fields.Boolean(
        metadata={"description": "awaiting review: shown only to its author (Author-Token, Reader-Token)"}
    )
    replies = fields.List(fields.Nested(lambda: PublicCommentSchema()), dump_default=list)
    reply_count = fields.Integer(
        metadata={"description": "top-level comments: how many published replies are under it"}
    )
    more_replies = fields.String(
        allow_none=True,
        metadata={
            "description": "top-level comments: more replies than shown here; pass as cursor to"
            " GET /v1/comments/{id}/replies"
        },
    )


class PublicArticleSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    url = fields.String(required=True)
    closed = fields.Boolean(required=True)


class ThreadQuerySchema(CursorQuerySchema):
    sort = fields.String(
        load_default="newest",
        validate=validate.OneOf(["newest", "oldest", "top"]),
        metadata={"description": "top: most liked first, newest first on ties"},
    )

    # Embeds ask for the same few pages again and again, and loading their arguments was a tenth
    # of a thread GET served from the page cache: valid arguments are kept by their raw values
    # (this schema's defaults are constants, so the same values always load the same).
    _loaded: dict[tuple, dict] = {}
    _LOADED_MAX = 4096

    def load(self, data, *, many=None, partial=None, unknown=None):
        try:
            key = (tuple(data.items()), many, partial, unknown)
            hash(key)
        except TypeError:  # values a dict cannot hold: loaded as they come
            return super().load(data, many=many, partial=partial, unknown=unknown)
        loaded = self._loaded.get(key)
        if loaded is None:
            loaded = super().load(data, many=many, partial=partial, unknown=unknown)
            if len(self._loaded) >= self._LOADED_MAX:
                self._loaded.clear()
            self._loaded[key] = loaded
        return dict(loaded)


class ThreadSchema(Schema):
    article = fields.Nested(PublicArticleSchema, allow_none=True)
    total = fields.Integer(required=True, metadata={"description": "approved comments, replies included"})
    featured = fields.List(
        fields.Nested(PublicCommentSchema),
        required=True,
        metadata={
            "description": "the article's featured comments (editors' picks, newest pick first, at most"
            f" {MAX_FEATURED}, without replies) on the first page; empty on later pages"
        },
    )
    comments = fields.List(fields.Nested(PublicCommentSchema), required=True)
    next_cursor = fields.String(allow_none=True, metadata={"description": "pass as cursor for the next page"})
    awaiting_review = fields.List(
        fields.Nested(PublicCommentSchema),
        metadata={
            "description": "with an Author-Token or Reader-Token header, on the first page: the sender's"
            " own comments on this article that await review (each with parent_id)"
        },
    )


class RepliesQuerySchema(CursorQuerySchema):
    limit = QueryInteger(load_default=100, validate=validate.Range(min=1, max=200))


class RepliesSchema(Schema):
    root_id = fields.Integer(required=True)
    replies = fields.List(
        fields.Nested(PublicCommentSchema),
        required=True,
        metadata={
            "description": "oldest first; a reply whose parent came on an earlier page is listed here"
            " with its parent_id, the others are nested under their parents"
        },
    )
    next_cursor = fields.String(allow_none=True, metadata={"description": "pass as cursor for more"})


class RenderTokenRequestSchema(Schema):
    article_id = CleanString(
        max_length=200, required=True, metadata={"description": "the site's own article id"}
    )


class RenderTokenSchema(Schema):
    render_token = fields.String(required=True, metadata={"description": "send it with the comment"})
    min_seconds = fields.Float(
        required=True,
        metadata={"description": "a comment posted sooner after this is held as a possible bot"},
    )


class ReactionSchema(Schema):
    reader_token = fields.String(
        **TOKEN,
        metadata={
            "description": "the site's reader token: a signed-in reader likes once wherever they are;"
            " without one, a reader is known by their network"
        },
    )


class ReactionResultSchema(Schema):
    comment_id = fields.Integer(required=True)
    likes = fields.Integer(required=True, metadata={"description": "the comment's likes now"})
    reacted = fields.Boolean(required=True, metadata={"description": "whether this reader likes it now"})


class CountsQuerySchema(Schema):
    ids = fields.List(
        CleanString(max_length=200),
        required=True,
        validate=validate.Length(min=1, max=MAX_COUNT_IDS),
        metadata={"description": f"the site's own article ids, 1 to {MAX_COUNT_IDS} (repeat: ids=a&ids=b)"},
    )

    # An article list asks for the same pages again and again, and cleaning 50 ids was half the
    # cost of a request: valid arguments are kept by their raw values, as ThreadQuerySchema does
    # (keyed by every value of each name: a query string repeats `ids`). At most ~10 MB.
    _loaded: dict[tuple, dict] = {}
    _LOADED_MAX = 1024

    def load(self, data, *, many=None, partial=None, unknown=None):
        raw = getattr(data, "data", data)  # webargs' proxy of the request's MultiDict
        if not hasattr(raw, "getlist"):
            return super().load(data, many=many, partial=partial, unknown=unknown)
        key = (tuple((name, tuple(raw.getlist(name))) for name in raw), many, partial, unknown)
        loaded = self._loaded.get(key)
        if loaded is None:
            loaded = super().load(data, many=many, partial=partial, unknown=unknown)
            if len(self._loaded) >= self._LOADED_MAX:
                self._loaded.clear()
            self._loaded[key] = loaded
        return {"ids": list(loaded["ids"])}


class CountsSchema(Schema):
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "approved comments (replies included) by article id; 0 for none yet"},
    )
