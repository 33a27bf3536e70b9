"""DynamoDB persistence. Speaks domain terms; routers never build an expression.

The data model (keys, item shapes, round trips per access pattern) is in docs/data-model.md.
"""
