# Area "input" (docs/security.md): bad input to a run (inputs, answers,
# sources, Json.decode, eval datasets, test input steps) is refused with
# what is wrong and where; nothing is cut or repaired silently, nothing runs.
add_test(NAME security_input
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/input.sh $<TARGET_FILE:tactus>)
set_tests_properties(security_input PROPERTIES LABELS "security" TIMEOUT 120)
# The same in the Docker sandbox, with tactus test and tactus eval.
add_test(NAME security_input_docker
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/input.sh $<TARGET_FILE:tactus> docker)
set_tests_properties(security_input_docker PROPERTIES LABELS "docker;no-asan;security"
                     RUN_SERIAL TRUE TIMEOUT 300)
