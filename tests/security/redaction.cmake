# Secrets leaking through output: a provider streams the key back one
# character per chunk; a key named by api_key_env (ACME_KEY) is a secret too.
add_test(NAME security-redaction-streamed-key
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/redaction.sh $<TARGET_FILE:tactus>
                 ${PROJECT_SOURCE_DIR}/tests/integration/fake_openai.py)
set_tests_properties(security-redaction-streamed-key PROPERTIES LABELS "security" TIMEOUT 120)
