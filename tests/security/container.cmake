# Defence in depth for the container: our seccomp allow-list, gVisor
# (sandbox.runtime: runsc), each also in the pooled container of tactus
# test and tactus eval, and no plain
# TCP to or from a remote broker beyond loopback (container.sh).
add_test(NAME security-container-seccomp
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/container.sh $<TARGET_FILE:tactus> seccomp)
set_tests_properties(security-container-seccomp PROPERTIES LABELS "security;docker;no-asan"
                     RUN_SERIAL TRUE TIMEOUT 120)
add_test(NAME security-container-plain-tcp
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/container.sh $<TARGET_FILE:tactus> plain-tcp)
set_tests_properties(security-container-plain-tcp PROPERTIES LABELS "security" TIMEOUT 60)
add_test(NAME security-container-runsc
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/container.sh $<TARGET_FILE:tactus> runsc)
set_tests_properties(security-container-runsc PROPERTIES LABELS "security;docker;no-asan"
                     RUN_SERIAL TRUE TIMEOUT 180)
# The plain-TCP broker refused to sandboxed tactus test and tactus eval
# (--no-sandbox they use the in-process broker only).
add_test(NAME security-container-plain-tcp-pooled
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/container.sh $<TARGET_FILE:tactus> plain-tcp-pooled)
set_tests_properties(security-container-plain-tcp-pooled PROPERTIES LABELS "docker;no-asan;security"
                     RUN_SERIAL TRUE TIMEOUT 120)
