"""What each stage reject reason means and what fixes it, for messages a user can act on.

Reasons are the `status` codes stages give rejected rows (`invalid_json`, `llm_connection`,
`invalid_after_repair:bad_turn_order`, ...). `explain(reason)` returns one sentence: the likely
cause, then the fix.
"""

from __future__ import annotations

_STRUCTURED = ("vLLM >= 0.10.2 reads `structured_outputs`; an older vLLM needs `guided_grammar` (--grammar-field "
               "guided_grammar, FUNCDEX_LLM_GRAMMAR_FIELD, or grammar_field on the LLM resource); a llama.cpp server "
               "reads neither")
REASONS: dict[str, str] = {
    "invalid_json": ("the server returned text that is not JSON although the request carried a JSON Schema; it is "
                     f"probably ignoring `structured_outputs` ({_STRUCTURED}): check the server and its "
                     "structured-output backend (xgrammar)"),
    "schema_mismatch": ("the answers are JSON but break the request's JSON Schema: the server reads the schema field "
                        f"but does not enforce it ({_STRUCTURED})"),
    "truncated": ("the answers stopped at max_tokens before they ended: raise that stage's max_tokens "
                  "(--max-tokens STAGE=N, FUNCDEX_LLM_MAX_TOKENS, or the LLM resource's `sampling` config), or use "
                  "a model that writes shorter answers"),
    "llm_connection": ("no server answered at the configured URL(s): start it (`vllm serve MODEL --port 8000`) or fix "
                       "FUNCDEX_LLM_BASE_URLS"),
    "llm_connection_reset": ("the server closed connections before answering: it crashed or was killed (check its log "
                             "for out-of-memory), or a proxy cut the requests; lower max_in_flight (--max-in-flight)"),
    "llm_tls": ("the TLS handshake failed: use http:// for a server started without TLS, or point SSL_CERT_FILE at "
                "the certificate of the CA that signed the server's"),
    "llm_timeout": ("the server did not answer within timeout_s (--request-timeout), or did not accept the "
                    "connection within 10 s: it is overloaded, stuck or unreachable; raise the timeout, lower "
                    "max_in_flight (--max-in-flight), or check the network and the server's log"),
    "llm_rate_limited": "the server kept answering HTTP 429: lower max_in_flight or raise its rate limit",
    "llm_server_error": "the server answered HTTP 5xx: read its log (out of memory, a crashed worker)",
    "llm_bad_request": ("the server refused the requests (HTTP 4xx): the model name (FUNCDEX_LLM_MODEL) or a field "
                        "it does not support; the reject message quotes the server"),
    "llm_empty": "the server answered with no text: check the model is a chat model and its chat template",
    "unparseable": ("the conversations are not valid DML although the request carried the grammar: the server is "
                    f"probably not applying it ({_STRUCTURED})"),
    "invalid_after_repair": ("the conversations broke the conversation rules even after the repair rounds: a stronger "
                             "model, more max_repairs, or read the issues in validated_conversations"),
    "no_plan": "the outlines were written by another LLM resource: re-materialize `outlines` with this one",
    "plan_tool_missing": "the bundle lost tools since the outlines were made: re-materialize `tool_combinations` and downstream",
    "low_tool_use_quality": ("the judge scored the conversations below min_tool_use_quality: read `reasons` in "
                             "conversation_scores (the detector findings are among them)"),
    "pending": "an earlier step of the same request failed",
}


def explain(reason: str) -> str:
    """The cause and fix of a reject reason (`invalid_after_repair:x` as `invalid_after_repair`)."""
    key = reason.split(":", 1)[0]
    return REASONS.get(reason) or REASONS.get(key) or "see the rows' reject_reason in the Dagster UI"
