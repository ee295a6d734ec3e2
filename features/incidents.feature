@UEPT-INC @BFD01
Feature: Raise, view, update, resolve and reopen incidents
  UEPT theme 2. A SEC Party user raises service-management and premises-related
  incidents in DCC's Self-Service Interface, finds them again, adds updates and
  files, and follows them to resolution. The SSI enforces the mandatory contact
  details, keeps each organisation's incidents to itself, gives each action only
  to the roles the role matrix allows, and shows what users typed as text, never
  as code. Where the target offers ServiceNow's Table API, scenarios check what
  the pages showed against the stored record and keep that record as evidence.

  @UEPT-INC-01 @SSI-FR-22 @SSI-FR-23 @PM9
  Scenario: Raise a service-management incident and receive its number
    Given I am signed in as the "SM user"
    When I raise a service-management incident
    Then I see the number of the new incident
    And the incident is "New"
    And the stored incident matches what I entered

  @UEPT-INC-02 @SSI-FR-22
  Scenario Outline: Each mandatory contact detail is required
    Given I am signed in as the "SM user"
    When I raise a service-management incident without the contact <detail>
    Then the incident is not raised and I am told "<message>"
    And no incident with my summary was stored

    Examples:
      | detail           | message                               |
      | first name       | First name is required.               |
      | last name        | Last name is required.                |
      | telephone number | Contact telephone number is required. |

  @UEPT-INC-03 @SSI-FR-22 @SSI-FR-23
  Scenario: The contact email address is optional
    Given I am signed in as the "SM user"
    When I raise a service-management incident without the contact email address
    Then I see the number of the new incident
    And the stored incident matches what I entered

  @UEPT-INC-04 @SSI-FR-26 @SSI-FR-27 @PM9
  Scenario: Raise a premises-related incident for an MPxN
    Given I am signed in as the "SM user"
    When I raise a premises-related incident for an MPxN with my own reference
    Then I see the number of the new incident
    And the incident shows the MPxN and my reference
    And the stored incident matches what I entered

  @UEPT-INC-05 @SSI-FR-32 @SSI-FR-34 @PM11
  Scenario: Find an incident in My Requests and see everything entered
    Given I am signed in as the "SM user"
    And I have raised a premises-related incident
    When I search My Requests for its number
    Then exactly that incident is listed
    When I open it from the list
    Then every field I entered is shown
    And the incident shows my organisation, its priority and its target resolution time
    And the stored incident matches what the page shows

  @UEPT-INC-06 @SSI-FR-34 @PM11
  Scenario Outline: Priority follows the impact and urgency matrix
    Given I am signed in as the "SM user"
    When I raise a service-management incident with impact "<impact>" and urgency "<urgency>"
    Then the incident's priority is "<priority>"
    And the stored incident has priority <value>

    Examples:
      | impact     | urgency    | priority     | value |
      | 1 - High   | 1 - High   | 1 - Critical | 1     |
      | 1 - High   | 2 - Medium | 2 - High     | 2     |
      | 1 - High   | 3 - Low    | 3 - Moderate | 3     |
      | 2 - Medium | 1 - High   | 2 - High     | 2     |
      | 2 - Medium | 2 - Medium | 3 - Moderate | 3     |
      | 2 - Medium | 3 - Low    | 4 - Low      | 4     |
      | 3 - Low    | 1 - High   | 3 - Moderate | 3     |
      | 3 - Low    | 2 - Medium | 4 - Low      | 4     |
      | 3 - Low    | 3 - Low    | 5 - Planning | 5     |

  @UEPT-INC-07 @SSI-FR-30 @SSI-FR-31 @PM10
  Scenario: Add updates and see them in the Activity stream, newest first
    Given I am signed in as the "SM user"
    And I have raised a service-management incident
    When I add an update of type "Additional information"
    Then I see the confirmation "Your update has been added"
    When I add an update of type "Request for progress"
    Then the Activity stream shows my updates, newest first
    And the stored incident holds my updates as additional comments

  @UEPT-INC-08 @SSI-FR-30 @PM10 @needs-operator
  Scenario: Answering an incident that awaits me returns it to In Progress
    Given I am signed in as the "SM user"
    And I have raised a service-management incident
    And DCC's service desk has put it on hold awaiting my answer
    When I open the incident
    Then the incident is "On Hold" with the on hold reason "Awaiting Caller"
    When I add an update of type "Additional information"
    Then the incident is "In Progress"

  @UEPT-INC-09 @SSI-FR-32a @SSI-FR-34 @needs-operator
  Scenario: Work notes of DCC's service desk are never shown to SSI users
    Given I am signed in as the "SM user"
    And I have raised a service-management incident
    And DCC's service desk has added a work note and a comment to it
    When I open the incident
    Then I see the service desk's comment in the Activity stream
    But I do not see the work note anywhere on the page
    And the Table API does not give me the work note

  @UEPT-INC-10 @SSI-FR-30 @SSI-NFR-21
  Scenario: Attach a file and download exactly the same bytes
    Given I am signed in as the "SM user"
    And I have raised a service-management incident
    When I attach a CSV file to it
    Then I see the confirmation "File attached"
    And the file is listed under Attachments
    When I download the file
    Then the browser saves it with the same bytes as the file I attached
    And the stored attachment has the same size and checksum

  @UEPT-INC-11 @SSI-FR-30
  Scenario Outline: Oversized or disallowed files are refused and nothing is stored
    Given I am signed in as the "SM user"
    And I have raised a service-management incident
    When I attach <file>
    Then the file is refused with a message saying "<message>"
    And no file is attached to the incident

    Examples:
      | file                                        | message                               |
      | a program file named tool.exe               | Files of type .exe cannot be attached |
      | a log file one byte larger than the limit   | cannot be attached                    |

  @UEPT-INC-12 @SSI-FR-30 @SSI-FR-31 @PM10
  Scenario: Resolve an incident with a resolution code and notes
    Given I am signed in as the "SM user"
    And I have raised a service-management incident
    When I resolve it with the resolution code "Solution provided" and notes
    Then the incident is "Resolved"
    And the incident shows the resolution code and notes
    And the stored incident is resolved with that code and those notes

  @UEPT-INC-13 @SSI-FR-30
  Scenario: Resolving without a resolution code and notes is refused
    Given I am signed in as the "SM user"
    And I have raised a service-management incident
    When I try to resolve it without a resolution code or notes
    Then I am told "Resolution code is required to resolve an incident."
    And I am told "Resolution notes are required to resolve an incident."
    When I open the incident
    Then the incident is "New"

  @UEPT-INC-14 @SSI-FR-30 @PM10
  Scenario: Reopen a resolved incident
    Given I am signed in as the "SM user"
    And I have raised and resolved a service-management incident
    When I reopen it giving a reason
    Then the incident is "In Progress"
    And the incident shows it was reopened 1 time
    And the Activity stream shows my reason
    And the stored incident is In Progress with reopen count 1

  @UEPT-INC-15 @SSI-FR-30 @SSI-FR-32
  Scenario: A closed incident cannot be reopened
    Given I am signed in as the "SM user"
    And I have raised and resolved a service-management incident
    When I close it
    Then the incident is "Closed"
    And the incident offers no "Reopen" action
    And the SSI refuses to reopen it even when asked directly
    And My Requests lists it under "Closed" and not under "Open"

  @UEPT-INC-16 @SSI-FR-32a @SSI-FR-30a @SSI-NFR-25
  Scenario: Another organisation's incident is not visible, by list or by direct URL
    Given the "other organisation user" has raised a service-management incident
    And I am signed in as the "SM user"
    When I search My Requests for that incident's number
    Then no incident is listed
    When I open that incident by its direct URL
    Then I see the message "You are either not authorized or record is not valid"
    And the Table API does not give me that incident

  @UEPT-INC-17 @SSI-NFR-24 @SSI-NFR-27
  Scenario Outline: A role without the raise right gets no Create Incident, by menu or by direct URL
    Given I am signed in as the "<persona>"
    When I open the portal home page
    Then the menu has no "Create Incident" entry
    When I open the Create Incident page by its direct URL
    Then I see the message "You do not have access to this page"
    And the Table API refuses to create an incident for me

    Examples:
      | persona  |
      | LA user  |
      | SMO user |
      | CC user  |

  @UEPT-INC-18 @SSI-FR-30a @SSI-FR-32a @SSI-NFR-27
  Scenario: A role that may view but not update sees an incident without actions
    Given the "SM user" has raised a service-management incident
    And I am signed in as the "LA user"
    When I open that incident by its direct URL
    Then I see that incident
    But it offers me no actions, no update box and no file upload
    And the SSI refuses an update from me even when asked directly

  @UEPT-INC-19 @SSI-NFR-27
  Scenario: A role without the view right sees no incidents at all
    Given the "SM user" has raised a service-management incident
    And I am signed in as the "CC user"
    When I open the portal home page
    Then the menu has no "My Requests" entry
    When I open My Requests by its direct URL
    Then I see the message "You do not have access to this page"
    When I open that incident by its direct URL
    Then I see the message "You do not have access to this page"

  @UEPT-INC-20 @SSI-FR-22 @SSI-FR-34
  Scenario: Markup and script typed into an incident are shown as text and never run
    Given I am signed in as the "SM user"
    When I raise a service-management incident whose summary and notes contain HTML and script
    And I add an update whose text contains HTML and script
    Then the incident shows exactly the text I typed
    And nothing I typed became part of the page or ran
    When I search My Requests for its number
    Then the list shows the summary exactly as I typed it

  @UEPT-INC-21 @SSI-FR-22
  Scenario Outline: Over-long text is refused with the limit, and nothing is stored
    Given I am signed in as the "SM user"
    When I raise a service-management incident whose <field> is one character longer than allowed
    Then the incident is not raised and I am told "<message>"
    And no incident with my summary was stored

    Examples:
      | field            | message                                         |
      | incident summary      | Incident summary must be at most 160 characters |
      | incident notes        | Incident notes must be at most 4000 characters  |
      | contact first name    | First name must be at most                      |
      | contact email address | Email must be at most                           |
      | reference             | Your reference must be at most                  |

  @UEPT-INC-22 @SSI-FR-26
  Scenario Outline: A premises-related incident needs a valid Device ID or MPxN
    Given I am signed in as the "SM user"
    When I raise a premises-related incident with <what>
    Then the incident is not raised and I am told "<message>"
    And no incident with my summary was stored

    Examples:
      | what                            | message                                                   |
      | neither a Device ID nor an MPxN | A premises related incident needs a Device ID or an MPxN. |
      | the MPxN "12345"                | MPxN '12345' is not valid                                 |
      | the Device ID "00-11-22"        | Device ID must be 8 pairs of hexadecimal digits           |
      | the MPxN "<u>12345</u>"         | MPxN '<u>12345</u>' is not valid                          |

  @UEPT-INC-23 @SSI-FR-22 @SSI-FR-26
  Scenario: Text exactly as long as each field allows is accepted and kept whole
    Given I am signed in as the "SM user"
    When I raise a premises-related incident with every text field exactly as long as allowed
    Then I see the number of the new incident
    And every field I entered is shown
    And the stored incident matches what I entered

  @UEPT-INC-28 @SSI-FR-22 @SSI-FR-30
  Scenario: An update one character longer than allowed is refused, and one exactly as long is posted whole
    Given I am signed in as the "SM user"
    And I have raised a service-management incident
    When I add an update one character longer than allowed
    Then I am told how long the update text may be
    When I add an update exactly as long as allowed
    Then the Activity stream shows my updates, newest first
    And the stored incident holds my updates as additional comments

  @UEPT-INC-29 @SSI-FR-22 @SSI-FR-30 @SSI-FR-31
  Scenario: Resolution notes one character longer than allowed are refused, and notes exactly as long are kept whole
    Given I am signed in as the "SM user"
    And I have raised a service-management incident
    When I resolve it with the resolution code "Solution provided" and notes one character longer than allowed
    Then I am told how long the resolution notes may be
    When I resolve it with the resolution code "Solution provided" and notes exactly as long as allowed
    Then the incident is "Resolved"
    And the incident shows the resolution code and notes
    And the stored incident is resolved with that code and those notes

  @UEPT-INC-24 @SSI-FR-30
  Scenario: A file exactly as large as the limit is attached whole
    Given I am signed in as the "SM user"
    And I have raised a service-management incident
    When I attach a log file exactly as large as the limit
    Then the file is listed under Attachments
    And the stored attachment has the same size and checksum

  @UEPT-INC-27 @SSI-FR-22 @SSI-FR-26 @SSI-FR-30 @SSI-FR-34
  Scenario: Markup typed into any field of an incident, an update, a file name, the resolution or the reopening is shown as text
    Given I am signed in as the "SM user"
    When I raise a premises-related incident whose every text field contains HTML and script
    And I add an update whose text contains HTML and script
    And I attach a file whose name contains HTML
    And I resolve it with the resolution code "Solution provided" and notes that contain HTML and script
    Then every field I entered is shown
    And the Activity stream shows my updates, newest first
    And the file is listed under Attachments
    And the incident shows the resolution code and notes
    And nothing I typed became part of the page or ran
    When I reopen it giving a reason that contains HTML and script
    Then the Activity stream shows my reason
    And nothing I typed became part of the page or ran
    When I search My Requests for its number
    Then the list shows the summary exactly as I typed it

  # The Examples of the two outlines below are not written here: uept generates them, when the suite is collected,
  # from the target profile (incidents.caller_actions and caller_transitions, and the role matrix), one row per
  # role that may view incidents and per state, as it does for the access-control feature. The completed feature
  # is kept in the run's evidence folder (reports/<run-id>/features/incidents.feature).
  @UEPT-INC-25 @SSI-FR-30 @SSI-FR-32 @SSI-NFR-27
  Scenario Outline: In each state an incident offers each role exactly the actions and state changes the profile gives
    Given the "<raiser>" has an incident that is "<state>"
    And I am signed in as the "<persona>"
    When I open that incident by its direct URL
    Then the incident offers exactly these actions: <actions>
    And the Table API lets me set its state to exactly: <changes>

    # uept:generate incident_states
    Examples: Each role that may view incidents, in each state its organisation's users can bring an incident to
      | persona | raiser | state | actions | changes |

  @UEPT-INC-26 @SSI-FR-30 @SSI-FR-32 @SSI-NFR-27 @needs-operator
  Scenario Outline: In the states only DCC's service desk sets, an incident offers each role exactly what the profile gives
    Given the "<raiser>" has an incident that is "<state>"
    And I am signed in as the "<persona>"
    When I open that incident by its direct URL
    Then the incident offers exactly these actions: <actions>
    And the Table API lets me set its state to exactly: <changes>

    # uept:generate incident_states_desk
    Examples: Each role that may view incidents, in each state only DCC's service desk sets
      | persona | raiser | state | actions | changes |
