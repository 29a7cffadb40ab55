"""conftest's semantics on pe-policy's loaders and engines: `pe-policy test`, `verify`, `parse`.

One module per job: `inputs` (which files, which parser, one document per YAML document or
array element), `hcl2json` (HCL2 in the shape conftest's parser gives it), `engine`
(conftest's `Check`: namespaces, rules, exceptions, counts), `run` (a whole `test` run on
pe-policy's runner), `outputs` (conftest's output formats), `settings` (conftest.toml),
`builtins` (`parse_config` & co. for `verify`).
"""
