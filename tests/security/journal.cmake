# Area journal (docs/security.md): a journal edited outside tactus is never
# resumed; journal files are private; budgets count across resumes.
add_test(NAME security_journal
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/journal.sh ${TACTUS_BIN}
                 ${CMAKE_SOURCE_DIR}/tests/integration/fake_openai.py)
set_tests_properties(security_journal PROPERTIES LABELS security TIMEOUT 180)
# The same edits with psql on a PostgreSQL store (the ctest fixture pg).
add_test(NAME security_journal_pg
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/journal.sh ${TACTUS_BIN}
                 ${CMAKE_SOURCE_DIR}/tests/integration/fake_openai.py)
set_tests_properties(security_journal_pg PROPERTIES LABELS "security;pg" TIMEOUT 300 FIXTURES_REQUIRED pg
                     ENVIRONMENT "TACTUS_TEST_BACKEND=pg;TACTUS_PG_FIXTURE=${TACTUS_PG_FIXTURE}")
