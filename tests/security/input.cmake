# Area "input" (docs/security.md): bad input to a run (inputs, answers,
# sources, Json.decode) is refused with what is wrong and where; nothing is
# cut or repaired silently, nothing runs.
add_test(NAME security_input
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/input.sh $<TARGET_FILE:tactus>)
set_tests_properties(security_input PROPERTIES LABELS "security" TIMEOUT 120)
