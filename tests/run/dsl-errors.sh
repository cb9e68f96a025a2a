#!/usr/bin/env bash
# The errors of the DSL primitives of issue 8, through the real binary: each
# fails the run with a message saying what is wrong and how to write it, at
# errors/dsl.tac and the line of the call.
#   dsl-errors.sh TACTUS
set -u
tactus=$1
tac=$(cd "$(dirname "$0")" && pwd)/errors/dsl.tac
fail=0 n=0
# shellcheck source=expect-error.sh
. "$(dirname "$0")/expect-error.sh"
check() { n=$((n + 1)); expect_error "$tactus" "$tac" "$@"; }
check classify_method 8 'Classify: method must be "llm" or "fuzzy", not "neural"' || fail=1
check classify_input 9 "Classify 'y' expects a text (a string or {text = ...}), got number" || fail=1
check history_role 10 'MessageHistory.append expects {role = "user"|"assistant"|"system", content = "..."}' || fail=1
check filter_arg 11 "filters.last_n expects a whole number >= 0" || fail=1
check history_source 12 'message_history.source must be "shared" or "isolated"' || fail=1
check sleep 13 "Sleep expects a number of seconds >= 0, got -5" || fail=1
check alert_level 14 'System.alert: level must be info, warning, error or critical, not "panic"' || fail=1
check hitl_key 15 "config_key 'nobody' names no Hitl declaration" || fail=1
check prompt_text 16 'Prompt "missing" expects its text' || fail=1
check model_type 17 "type 'pytorch' is not available in this runtime" || fail=1
check registry 18 "type 'registry' needs a model registry and local training" || fail=1
check matcher 19 "contains expects a string" || fail=1
check utf8_clean 20 "utf8_clean expects a string, got number" || fail=1
[ $fail = 0 ] && echo "dsl-errors: $n primitives' errors, each at dsl.tac:LINE with what to write"
exit $fail
