@UEPT-CRED @BFD14
Feature: Managing user credentials: administration users, Job Type Roles and the account lifecycle
  UEPT theme 3. Under FSM each organisation's Administration Users (the Organisational
  Administrator role) create, change, unlock, reset, deactivate and reinstate the accounts of
  their own organisation, and give each person Job Type Roles, without DCC validating them.
  The SSI then grants each person exactly the functions of their roles (the union when they
  hold several). Every account a scenario creates is new for the run (a unique user name),
  so the scenarios are independent of each other and of earlier runs.

  @UEPT-CRED-01 @SSI-FR-61 @SSI-FR-58 @SSI-NFR-11 @SSI-NFR-36 @SSI-NFR-27 @SSI-FR-63 @PM21 @PM25
  Scenario: An administrator creates a user, whose first login sets a password and an authenticator
    Given I am signed in as the "OA user"
    When I create a user with the Job Type Roles "Service Management User" and "Lead Agent"
    Then I am shown the new user's one-time password, once
    And the user list shows the new user as "Active", never logged in
    When the new user logs in with the one-time password
    Then the new user is asked to set up multi-factor authentication
    When the new user sets up an authenticator app with the setup key shown
    Then the new user is asked to change their password
    When the new user changes their password
    Then the new user sees the login confirmation
    And the new user's profile lists the Job Type Roles "Service Management User" and "Lead Agent"
    And the new user's profile says Yes exactly for the functions of those roles together
    When I open the new user's account
    Then its user name and account status cannot be edited
    And the user list shows when the new user last logged in

  @UEPT-CRED-02 @SSI-FR-61 @SSI-NFR-22
  Scenario Outline: A user name that is already taken is refused and another one asked for
    Given I am signed in as the "OA user"
    When I try to create a user with the user name of the "<holder>" written <how>
    Then the "user name" field says "already taken"
    And nothing was saved from that attempt

    Examples:
      | holder                  | how           |
      | SM user                 | as it is      |
      | other organisation user | as it is      |
      | SM user                 | in upper case |

  @UEPT-CRED-03 @SSI-FR-60 @SSI-FR-58 @SSI-NFR-27 @PM22
  Scenario: Adding a Job Type Role grants its functions and removing it withdraws them
    Given I am signed in as the "OA user"
    And I have created a user with the Job Type Role "Call Centre User" who has completed their first login
    Then the new user is not offered "Raise service management incidents" and is refused it
    When I add the Job Type Role "Service Management User" to the new user
    And the new user logs in again
    Then the new user is offered "Raise service management incidents" and can open it
    When I remove the Job Type Role "Service Management User" from the new user
    And the new user logs in again
    Then the new user is not offered "Raise service management incidents" and is refused it

  @UEPT-CRED-04 @SSI-FR-60 @SSI-FR-58 @SSI-FR-59 @SSI-NFR-10 @PM22
  Scenario: An administrator unlocks a locked account
    Given I am signed in as the "OA user"
    And I have created a user with the Job Type Role "Service Management User"
    When the new user mistypes their password until their account is locked
    Then the new user sees the login error "Your account is locked"
    And the user list shows the new user as "Locked"
    When I unlock the new user's account
    Then the user list shows the new user as "Active"
    When the new user logs in with the one-time password
    Then the new user is asked to set up multi-factor authentication

  @UEPT-CRED-05 @SSI-FR-58 @SSI-FR-60 @SSI-NFR-36 @PM22
  Scenario: Resetting a user's multi-factor authentication makes them set it up again
    Given I am signed in as the "OA user"
    And I have created a user with the Job Type Role "Service Management User" who has completed their first login
    When I reset the new user's multi-factor authentication
    Then the new user's session has ended
    When the new user logs in with their password
    Then the new user is asked to set up multi-factor authentication
    When the new user sets up an authenticator app with the setup key shown
    Then the new user sees the login confirmation

  @UEPT-CRED-06 @SSI-FR-60 @PM24
  Scenario: A deactivated user cannot log in, and can again once reinstated
    Given I am signed in as the "OA user"
    And I have created a user with the Job Type Role "Service Management User" who has completed their first login
    When I deactivate the new user, confirming when asked
    Then the user list shows the new user as "Inactive"
    And the new user's session has ended
    When the new user logs in with their password
    Then the new user sees the login error "User name or password invalid"
    When I reinstate the new user
    Then the user list shows the new user as "Active"
    When the new user logs in with their password and an authenticator code
    Then the new user sees the login confirmation

  @UEPT-CRED-07 @SSI-FR-60 @SSI-FR-59 @PM24
  Scenario: A migrated account arrives inactive, and the administrator gives it a role and reinstates it
    Given I am signed in as the "OA user"
    When I look for an inactive account of my organisation that has never logged in
    And I try to reinstate the migrated user before giving them a Job Type Role
    Then the "Job Type Roles" field says "at least one Job Type Role"
    When I give the migrated user the Job Type Role "Service Management User"
    And I reinstate the migrated user
    Then I am shown the migrated user's one-time password, once
    And the user list shows the migrated user as "Active", never logged in
    When the migrated user logs in with the one-time password
    And the migrated user sets up an authenticator app with the setup key shown
    And the migrated user changes their password
    Then the migrated user is asked to complete their profile
    When the migrated user completes their profile with a telephone number
    Then the migrated user sees the login confirmation

  @UEPT-CRED-08 @SSI-FR-58 @SSI-FR-60 @SSI-NFR-11 @PM22
  Scenario: Resetting a password issues a one-time password that must be changed at the next login
    Given I am signed in as the "OA user"
    And I have created a user with the Job Type Role "Service Management User" who has completed their first login
    When I reset the new user's password
    Then I am shown the new user's one-time password, once
    And the new user's session has ended
    When the new user logs in with their old password
    Then the new user sees the login error "User name or password invalid"
    When the new user logs in with the one-time password and an authenticator code
    Then the new user is asked to change their password
    When the new user changes their password
    Then the new user sees the login confirmation

  @UEPT-CRED-09 @SSI-FR-59 @PM23
  Scenario Outline: The user list can be sorted by each column and read page by page
    Given I am signed in as the "OA user"
    When I open the user list
    Then it shows the columns user name, name, account status and last login
    And it shows one page of users, with a link to the next page
    When I sort the user list by "<column>", ascending
    Then the user list is in ascending order of "<column>"
    When I sort the user list by "<column>", descending
    Then the user list is in descending order of "<column>"
    When I go to the next page of the user list
    Then that page carries on in descending order of "<column>"

    Examples:
      | column         |
      | user name      |
      | name           |
      | account status |
      | last login     |

  @UEPT-CRED-10 @SSI-NFR-2 @SSI-NFR-22 @SSI-NFR-25 @SSI-NFR-27
  Scenario Outline: Only Organisational Administrators reach user administration
    Given I am signed in as the "<persona>"
    Then the menu does not offer user administration
    And my profile offers no way to manage users
    When I open the user administration page by its address
    Then I am refused with a readable 403 page
    And a direct request to create a user is refused with 403

    Examples:
      | persona  |
      | AA user  |
      | SU user  |
      | LA user  |
      | CC user  |
      | MI user  |
      | SM user  |
      | SMO user |
      | AMO user |
      | SCM user |
      | LOG user |

  @UEPT-CRED-11 @SSI-FR-59 @SSI-FR-60
  Scenario: An administrator can neither see nor open another organisation's accounts
    Given I am signed in as the "other organisation admin"
    And I note the address of the account of the "other organisation user"
    And I am signed in as the "OA user"
    When I search the user list for the "other organisation user"
    Then no account is listed
    When I open the noted account address directly
    Then I am told the record is not valid or I am not authorised
    And a direct request to change that account is refused

  @UEPT-CRED-12 @SSI-FR-61 @SSI-NFR-22
  Scenario Outline: Invalid details of a new account are refused with a message on the field, and nothing is saved
    Given I am signed in as the "OA user"
    When I try to create a user with <problem>
    Then the "<field>" field says "<message>"
    And nothing was saved from that attempt

    Examples:
      | problem                                          | field          | message                             |
      | an email address without an @                    | email          | Enter an email address              |
      | an empty first name                              | first name     | is required                         |
      | an empty last name                               | last name      | is required                         |
      | a user name one character longer than allowed    | user name      | at most                             |
      | a last name one character longer than allowed    | last name      | at most                             |
      | a user name with a space in it                   | user name      | Use letters, digits                 |
      | a telephone number made of letters               | telephone      | Enter a telephone number            |
      | no Job Type Role                                 | Job Type Roles | Choose at least one Job Type Role   |
      | no organisation                                  | organisations  | Choose at least one organisation    |

  @UEPT-CRED-16 @SSI-FR-61 @SSI-NFR-22
  Scenario: A new account whose user name, names and email are each exactly as long as allowed is created whole
    Given I am signed in as the "OA user"
    When I create a user with the Job Type Role "Service Management User" whose every field is as long as allowed
    Then the user list and the new user's account show their details whole

  @UEPT-CRED-13 @SSI-FR-60 @SSI-NFR-22 @PM22
  Scenario: An invalid change to an account is refused, and the account keeps its details
    Given I am signed in as the "OA user"
    And I have created a user with the Job Type Role "Call Centre User"
    When I try to change the new user's email address to "not-an-email" and take away all their Job Type Roles
    Then the "email" field says "Enter an email address"
    And the "Job Type Roles" field says "Choose at least one Job Type Role"
    When I open the new user's account
    Then it still has the new user's email address and only the Job Type Role "Call Centre User"

  @UEPT-CRED-14 @SSI-FR-61 @SSI-NFR-11 @PM21
  Scenario Outline: A new password that is weak, the one-time password kept, or not confirmed is refused, and the account stays usable
    Given I am signed in as the "OA user"
    When I create a user with the Job Type Roles "Service Management User"
    And the new user logs in with the one-time password
    And the new user sets up an authenticator app with the setup key shown
    Then the new user is asked to change their password
    When <attempt>
    Then the password change is refused with "<message>"
    And the new user is asked to change their password
    When the new user changes their password
    Then the new user sees the login confirmation

    Examples:
      | attempt                                                           | message                                   |
      | the new user tries to change their password to "Short1"           | Use at least 12 characters                |
      | the new user tries to change their password to "alllowercase12"   | upper- and lower-case letters and a digit |
      | the new user tries to keep their one-time password as their password | different from the one you were given  |
      | the new user confirms a new password with a different one         | The two passwords do not match.           |

  @UEPT-CRED-15 @SSI-FR-61 @SSI-FR-62 @SSI-NFR-22
  Scenario: Markup typed into a user's names is shown as text in user administration and on their own profile
    Given I am signed in as the "OA user"
    When I create a user with the Job Type Role "Service Management User" whose names contain HTML and script
    Then the user list and the new user's account show their names exactly as I typed them
    And nothing I typed became part of the page or ran
    When the new user logs in with the one-time password
    And the new user sets up an authenticator app with the setup key shown
    And the new user changes their password
    Then the new user sees the login confirmation
    And the new user's profile shows their name exactly as I typed it
    And nothing I typed became part of the page or ran
