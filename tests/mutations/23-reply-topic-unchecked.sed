Mutant: reply_to and the v5 response topic are published to without validation
Needs: link
Tests: ctest ^test_codec
Tests: pytest tests/integration/test_commands.py tests/integration/test_security.py
File: bridge/reply_topic.c

# The link branch adds bridge/reply_topic.c (issue 10 item 2). At merge, make
# its validation accept everything: replace this line with a sed command that
# makes the check return "valid", e.g.
#   s/^\(int reply_topic_[a-z_]*(.*)\)$/\1\n{ return 0; }\nstatic int unused_check(void)/
# Until then the file does not exist and the mutant reports DOES NOT APPLY.
s/^/&/
