# Limits that hold: the host never waits past the run's --timeout, whatever
# the procedure waits on (limits.sh).
foreach(case sleep-over-limit sleep-loop slow-model slow-tool pattern retry-overflow retry-test
             journal-fill print-flood runtime-noread pattern-test pattern-eval)
  add_test(NAME security_limits_${case}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/limits.sh ${TACTUS_BIN} ${case})
  set_tests_properties(security_limits_${case} PROPERTIES LABELS "security" TIMEOUT 90)
endforeach()
foreach(case sleep-over-limit slow-model pattern pattern-eval)
  add_test(NAME security_limits_${case}_docker
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/limits.sh ${TACTUS_BIN} ${case} --docker)
  set_tests_properties(security_limits_${case}_docker PROPERTIES
                       LABELS "security;docker;no-asan" RUN_SERIAL TRUE TIMEOUT 120)
endforeach()
