# Area "config": configuration and .env written by the project (a procedure
# writing FILE.tac.yml, .tactus/config.yml, .env) must not configure its
# host; `tactus trust` makes a project's files count, until they change.
add_test(NAME security_config_nosandbox
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/config.sh $<TARGET_FILE:tactus>
                 ${CMAKE_SOURCE_DIR}/tests/integration/fake_openai.py nosandbox)
set_tests_properties(security_config_nosandbox PROPERTIES LABELS "security" TIMEOUT 120)
add_test(NAME security_config_docker
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/config.sh $<TARGET_FILE:tactus>
                 ${CMAKE_SOURCE_DIR}/tests/integration/fake_openai.py docker)
set_tests_properties(security_config_docker PROPERTIES LABELS "security;docker;no-asan"
                     RUN_SERIAL TRUE TIMEOUT 300)
