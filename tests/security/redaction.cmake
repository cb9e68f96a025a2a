# Secrets leaking through output: a provider streams the key back one
# character per chunk; a key named by api_key_env (ACME_KEY) is a secret too.
# The same attack under tactus run, test and eval, in Docker and without
# (redaction.sh MODE).
add_test(NAME security-redaction-streamed-key
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/redaction.sh $<TARGET_FILE:tactus>
                 ${PROJECT_SOURCE_DIR}/tests/integration/fake_openai.py no-sandbox)
set_tests_properties(security-redaction-streamed-key PROPERTIES LABELS "security" TIMEOUT 120)
foreach(mode test-no-sandbox eval-no-sandbox)
  add_test(NAME security-redaction-${mode}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/redaction.sh $<TARGET_FILE:tactus>
                   ${PROJECT_SOURCE_DIR}/tests/integration/fake_openai.py ${mode})
  set_tests_properties(security-redaction-${mode} PROPERTIES LABELS "security" TIMEOUT 120)
endforeach()
foreach(mode docker test-docker eval-docker)
  add_test(NAME security-redaction-${mode}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/redaction.sh $<TARGET_FILE:tactus>
                   ${PROJECT_SOURCE_DIR}/tests/integration/fake_openai.py ${mode})
  set_tests_properties(security-redaction-${mode} PROPERTIES LABELS "docker;no-asan;security"
                       RUN_SERIAL TRUE TIMEOUT 300)
endforeach()
