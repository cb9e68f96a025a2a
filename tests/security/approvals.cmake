# Approvals a person can trust: yes/no only for approvals, answers checked
# against the request, the whole text shown, and procedure text escaped on
# every terminal output.
add_test(NAME security-approvals-trust
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/approvals.sh $<TARGET_FILE:tactus>)
set_tests_properties(security-approvals-trust PROPERTIES LABELS "security" TIMEOUT 180)
# The escaping attack once in the real Docker sandbox.
add_test(NAME security-approvals-escapes-sandboxed
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/approvals-sandbox.sh $<TARGET_FILE:tactus>)
set_tests_properties(security-approvals-escapes-sandboxed PROPERTIES
                     LABELS "security;docker;no-asan" TIMEOUT 120 RUN_SERIAL TRUE)
