-- 22-settings-text.tac
--
-- Settings that many calls share, and text:
--   * Hitl "name" {...} declares defaults for Human requests that name it
--     with config_key (timeout, default, message...); the call's own
--     options win.
--   * Prompt "name" [[text]] declares a text once; Prompt("name") returns it.
--   * Retry.with_backoff waits between attempts with the host's durable
--     timer (the fixed clock of tests just moves on).
--   * string.len/sub/reverse count characters, not bytes, in text with
--     non-ASCII characters (s:sub(1, 3) of "Zoë..." is "Zoë"); ASCII text
--     is unchanged; utf8_clean(s) replaces invalid bytes with "?".
--
--   tactus test --mock examples/22-settings-text.tac

Hitl "release" {
  message = "Publish the release notes?",
  timeout = 3600,
  default = false,
}

Prompt "headline" [[Write a headline of at most five words.]]

publish = Tool {
  description = "Publish a text; the first try fails (a flaky service)",
  input = {text = field.string{required = true}},
  function(args)
    State.increment("publish_attempts")
    if State.get("publish_attempts") < 2 then error("service unavailable") end
    return {url = "https://example.org/notes"}
  end,
}

Procedure {
  input = {title = field.string{required = true}},
  output = {
    short_title = field.string{required = true},
    length = field.integer{required = true},
    approved = field.boolean{required = true},
    prompt = field.string{required = true},
    url = field.string{required = true},
    waited = field.integer{required = true},
  },
  function(input)
    local short = input.title:sub(1, 12)
    local approved = Human.approve({config_key = "release"})
    local started = os.time()
    local url = ""
    if approved then
      url = Retry.with_backoff(function()
        return publish({text = short}).url
      end, {max_attempts = 3, initial_delay = 30, backoff_factor = 2})
    end
    return {
      short_title = short,
      length = input.title:len(),
      approved = approved,
      prompt = Prompt("headline"),
      url = url,
      waited = os.time() - started,
    }
  end,
}

Specifications([[
Feature: Release notes with shared settings

  Scenario: Non-ASCII titles are cut by characters; approval uses the named defaults
    Given the input title is "Änderungen für Zoë: schneller"
    And Human.approve will return true
    When the procedure runs
    Then the output short_title should be "Änderungen f"
    And the output length should be 29
    And the output approved should be true
    And the output prompt should be "Write a headline of at most five words."
    And the output url should be "https://example.org/notes"
    And the output waited should be 30
    And the state publish_attempts should be 2

  Scenario: The named default message is what the person sees
    Given when asked "Publish the release notes" return false
    And the input title is "Fixes"
    When the procedure runs
    Then the output approved should be false
    And the output url should be ""
    And the publish tool should not be called
]])
