"""The fake GitHub: a small stateful stand-in for GitHub's REST and GraphQL APIs (the demo,
the sandbox and the tests). `server` is the HTTP side and `FakeGitHub`, assembled from
`store` (the state and how it changes), `render` (its JSON shapes) and `hooks` (the tests'
seeding and readers); `state` the records, `rest` the REST routes, `graphql` the
schema-less GraphQL answers of the demo, `resolvers` the fake's state as GraphQL field
resolvers, and `strict` the checks against GitHub's published descriptions that the tests
switch on (docs/TESTED-AGAINST.md)."""

from billingops.sandbox.fake_github.server import FIXED_EPOCH, FakeGitHub, SeenRequest

__all__ = ["FIXED_EPOCH", "FakeGitHub", "SeenRequest"]
