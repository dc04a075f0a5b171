"""Schemas of the site-adapted models (admin API): each version with the gate's figures."""

from __future__ import annotations

from marshmallow import Schema, fields

from .common import ProblemSchema

FIGURE = {"allow_none": True}


class ModelNameSchema(Schema):
    name = fields.String(required=True)
    version = fields.String(required=True)


class GateRuleSchema(Schema):
    name = fields.String(required=True, metadata={"description": "the rule, e.g. auc_gain"})
    passed = fields.Boolean(required=True)
    value = fields.Float(required=True, **FIGURE, metadata={"description": "the measured figure"})
    required = fields.String(required=True, metadata={"description": "what the rule asks of it"})
    text = fields.String(required=True, metadata={"description": "the rule and its figures in words"})


class PolicySharesSchema(Schema):
    rejected_published = fields.Float(
        **FIGURE, metadata={"description": "share of the held-out rejected comments the policy would publish"}
    )
    approved_held = fields.Float(
        **FIGURE, metadata={"description": "share of the held-out approved comments it would hold or reject"}
    )


class EvaluationSchema(Schema):
    deploy = fields.Boolean(required=True, metadata={"description": "whether every rule of the gate passed"})
    verdict = fields.String(required=True)
    decisions = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    approved = fields.Integer(required=True)
    held_out = fields.Integer(required=True, metadata={"description": "the newest decisions, not trained on"})
    shipped_auc_all = fields.Float(
        **FIGURE, metadata={"description": "the shipped model's ROC-AUC on every decision"}
    )
    current_auc = fields.Float(**FIGURE, metadata={"description": "ROC-AUC of today's model, held out"})
    adapted_auc = fields.Float(**FIGURE, metadata={"description": "ROC-AUC of this model, held out"})
    auc_gain = fields.Float(**FIGURE)
    current = fields.Nested(PolicySharesSchema)
    adapted = fields.Nested(PolicySharesSchema)
    rules = fields.List(fields.Nested(GateRuleSchema), required=True)
    thresholds = fields.Dict(metadata={"description": "the gate's settings"})
    fit = fields.Dict(metadata={"description": "the training: C chosen, validation ROC-AUCs, weights kept"})


class AdaptedModelSchema(Schema):
    number = fields.Integer(required=True)
    name = fields.String(required=True)
    version = fields.String(required=True, metadata={"description": "what comments scored by it record"})
    base_version = fields.String(required=True, metadata={"description": "the scorer it was trained on"})
    deployed = fields.Boolean(required=True, metadata={"description": "it passed the gate"})
    active = fields.Boolean(required=True, metadata={"description": "new comments of the site get it"})
    rolled_back_at = fields.DateTime(allow_none=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    evaluation = fields.Nested(EvaluationSchema, required=True)


class SiteModelsSchema(Schema):
    site = fields.String(required=True)
    shipped = fields.Nested(ModelNameSchema, required=True)
    scoring = fields.Nested(
        ModelNameSchema, required=True, metadata={"description": "the model new comments of the site get"}
    )
    active = fields.Nested(AdaptedModelSchema, allow_none=True, required=True)
    versions = fields.List(
        fields.Nested(AdaptedModelSchema), required=True, metadata={"description": "newest first"}
    )


class AdaptationSchema(Schema):
    deployed = fields.Boolean(required=True)
    verdict = fields.String(required=True)
    model = fields.Nested(AdaptedModelSchema, required=True)
    scoring = fields.Nested(ModelNameSchema, required=True)


class NotEnoughDecisionsProblemSchema(ProblemSchema):
    """The 409 when a site has too few decisions to learn from: what it has and what it needs."""

    decisions = fields.Integer(required=True)
    approved = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    required = fields.Integer(required=True, metadata={"description": "decisions needed in all"})
    required_per_class = fields.Integer(
        required=True, metadata={"description": "of each: approved and rejected"}
    )
