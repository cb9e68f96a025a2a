# The files the host reads (.tactus/, .tac sources, sidecars, .env*) are
# closed to the procedure, and a run's writes are capped by
# sandbox.workspace_quota: filesystem.sh, the same attacks in every mode
# (run, test, eval, a resume after an approval; in Docker and without).
foreach(mode no-sandbox quota-no-sandbox test-no-sandbox eval-no-sandbox resume-no-sandbox)
  add_test(NAME security-filesystem-${mode}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/filesystem.sh $<TARGET_FILE:tactus> ${mode})
  set_tests_properties(security-filesystem-${mode} PROPERTIES LABELS "security" TIMEOUT 120)
endforeach()
foreach(mode docker doctor quota-docker test-docker eval-docker resume-docker)
  add_test(NAME security-filesystem-${mode}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/filesystem.sh $<TARGET_FILE:tactus> ${mode})
  set_tests_properties(security-filesystem-${mode} PROPERTIES LABELS "security;docker;no-asan"
                       RUN_SERIAL TRUE TIMEOUT 300)
endforeach()
# A procedure folder that holds the host's own folders (the procedure kept
# in $HOME) is refused: workspace.sh.
add_test(NAME security-workspace-no-sandbox
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/workspace.sh $<TARGET_FILE:tactus> no-sandbox)
set_tests_properties(security-workspace-no-sandbox PROPERTIES LABELS "security" TIMEOUT 120)
add_test(NAME security-workspace-docker
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/workspace.sh $<TARGET_FILE:tactus> docker)
set_tests_properties(security-workspace-docker PROPERTIES LABELS "security;docker;no-asan"
                     RUN_SERIAL TRUE TIMEOUT 300)
# Files `tactus eval` reads as datasets stay in the procedure's folder; a
# FIFO named like a dataset or a configuration file never hangs the host.
add_test(NAME security-datasets COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/datasets.sh $<TARGET_FILE:tactus>)
set_tests_properties(security-datasets PROPERTIES LABELS "security" TIMEOUT 120)
