@UEPT-LOGIN @BFD14 @PM1
Feature: Log in to the SSI with multi-factor authentication
  UEPT theme 1. A SEC Party user logs in to DCC's Self-Service Interface with a
  user name, a password and a second factor: a code from an authenticator app or
  a code sent by email. The SSI refuses wrong, expired and replayed codes, locks
  an account after repeated failures, ends idle sessions and lets users sign out.
  A user whose organisation signs in through Microsoft Entra ID (@entra) does the
  same at Entra's sign-in pages, reached by "Use external login".

  @UEPT-LOGIN-01 @SSI-FR-1a @SSI-NFR-36 @SSI-NFR-10
  Scenario: Sign in with a password and an authenticator app code
    Given I am the "authenticator user"
    When I open the SSI login page
    And I log in with my user name and password
    Then I am asked for a verification code
    When I enter the code from my authenticator app
    Then I see the login confirmation
    And the SSI shows I am signed in as myself

  @UEPT-LOGIN-02 @SSI-FR-1a @SSI-NFR-36
  Scenario: Sign in with a code sent by email
    Given I am the "email code user"
    When I open the SSI login page
    And I log in with my user name and password
    Then I am asked for a verification code
    When I enter the code emailed to me
    Then I see the login confirmation

  @UEPT-LOGIN-03 @SSI-FR-1 @SSI-FR-1a @SSI-NFR-11 @SSI-NFR-36
  Scenario: First login sets up an authenticator app and completes the profile
    Given I am the "new user"
    When I open the SSI login page
    And I log in with my user name and password
    Then I am asked to set up multi-factor authentication
    When I choose to receive codes from an authenticator app
    And I add the setup key shown to my authenticator app
    And I enter the code from my authenticator app
    Then I am asked to complete my profile
    When I complete my profile with my name, email address and telephone number
    Then I see the login confirmation
    When I sign out
    And I log in with my user name and password
    And I enter the code from my authenticator app
    Then I see the login confirmation

  @UEPT-LOGIN-22 @SSI-FR-1 @SSI-NFR-11 @SSI-NFR-36
  Scenario: First login sets up emailed codes, and the next login asks for an emailed code
    Given I am the "new email user"
    When I open the SSI login page
    And I log in with my user name and password
    Then I am asked to set up multi-factor authentication
    When I choose to receive codes by email
    And I enter the code emailed to me
    Then I am asked to complete my profile
    When I complete my profile with my name, email address and telephone number
    Then I see the login confirmation
    When I sign out
    And I log in with my user name and password
    Then I am asked for a verification code
    When I enter the code emailed to me
    Then I see the login confirmation

  @UEPT-LOGIN-04 @SSI-NFR-10 @SSI-NFR-22
  Scenario Outline: A wrong password is refused without revealing anything about the account
    Given I am the "mistyped password user"
    When I open the SSI login page
    And I log in as <who> with a wrong password
    Then I see the login error "User name or password invalid"
    And the page reveals nothing about the account
    And I am not signed in

    Examples:
      | who                    |
      | myself                 |
      | someone who has no account |

  @UEPT-LOGIN-05 @SSI-NFR-36
  Scenario: A wrong verification code is refused
    Given I am the "mistyped code user"
    When I open the SSI login page
    And I log in with my user name and password
    And I enter a wrong verification code
    Then I see the verification error "Invalid verification code"
    And I am not signed in

  @UEPT-LOGIN-06 @SSI-NFR-36
  Scenario: An expired authenticator code is refused
    Given I am the "expired code user"
    When I open the SSI login page
    And I log in with my user name and password
    And I enter a code my authenticator app showed two minutes ago
    Then I see the verification error "Invalid verification code"
    And I am not signed in

  @UEPT-LOGIN-07 @SSI-NFR-36 @needs-operator
  Scenario: An emailed code is refused once it has expired
    Given I am the "expired email code user"
    When I open the SSI login page
    And I log in with my user name and password
    And the emailed code is older than its validity period
    And I enter the code emailed to me
    Then I see the verification error "This code has expired"
    And I am not signed in

  @UEPT-LOGIN-08 @SSI-NFR-36
  Scenario: A code that was already used is refused
    Given I am the "replay user"
    When I open the SSI login page
    And I log in with my user name and password
    And I enter the code from my authenticator app
    Then I see the login confirmation
    When I sign out
    And I log in with my user name and password
    And I enter the same code again
    Then I see the verification error "This code has already been used"
    And I am not signed in

  @UEPT-LOGIN-09 @SSI-FR-59 @SSI-FR-60 @SSI-NFR-10
  Scenario: Repeated failed logins lock the account
    Given I am the "lockout user"
    When I open the SSI login page
    And I log in with a wrong password until the lockout threshold is reached
    Then I see the login error "Your account is locked"
    When I log in with my user name and password
    Then I see the login error "Your account is locked"
    And I am not signed in

  @UEPT-LOGIN-10 @SSI-NFR-20 @needs-operator
  Scenario: An idle session expires
    Given I am the "idle user"
    And I am signed in
    When my session stays idle for longer than the inactivity timeout
    And I open the portal home page
    Then I am asked to log in again because my session expired

  @UEPT-LOGIN-11 @SSI-NFR-20
  Scenario: Signing out ends the session
    Given I am the "sign-out user"
    And I am signed in
    When I sign out
    Then I see that I have been logged out
    When I open the portal home page
    Then I am asked to log in

  @UEPT-LOGIN-12 @SSI-NFR-1 @SSI-FR-62
  Scenario: A protected page asks for login first and opens after it
    Given I am the "returning user"
    When I open my profile page without being signed in
    Then I am asked to log in
    When I log in with my user name and password
    And I enter the code from my authenticator app
    Then my profile page is shown

  @UEPT-LOGIN-13 @SSI-FR-1a @SSI-NFR-36 @entra
  Scenario: Sign in through Microsoft Entra ID with an authenticator app code
    Given I am the "Entra user"
    When I open the SSI login page
    And I choose to sign in with Microsoft Entra ID
    And I sign in to Microsoft Entra ID with my email address and password
    Then Microsoft Entra ID asks for the code from my authenticator app
    When I enter the code from my authenticator app at Microsoft Entra ID
    And I choose not to stay signed in
    Then I see the login confirmation
    And the SSI shows I am signed in as myself

  @UEPT-LOGIN-14 @SSI-NFR-36 @entra
  Scenario: Microsoft Entra ID refuses a wrong authenticator code, and the SSI stays closed
    Given I am the "Entra mistyped code user"
    When I open the SSI login page
    And I choose to sign in with Microsoft Entra ID
    And I sign in to Microsoft Entra ID with my email address and password
    And I enter a wrong verification code at Microsoft Entra ID
    Then Microsoft Entra ID refuses the code with "You didn't enter the expected verification code"
    And I am not signed in

  @UEPT-LOGIN-15 @SSI-NFR-36
  Scenario: An authenticator code as old as the SSI's tolerance is accepted, and one time step older is refused
    Given I am the "tolerance user"
    When I open the SSI login page
    And I log in with my user name and password
    And I enter a code one time step older than the SSI's tolerance accepts
    Then I see the verification error "Invalid verification code"
    When I enter the oldest code the SSI's time-step tolerance accepts
    Then I see the login confirmation

  @UEPT-LOGIN-16 @SSI-FR-59 @SSI-NFR-10
  Scenario: One failed login fewer than the lockout threshold leaves the account open
    Given I am the "nearly locked user"
    When I open the SSI login page
    And I log in with a wrong password one time fewer than the lockout threshold
    And I log in with my user name and password
    Then I am asked for a verification code
    When I enter the code from my authenticator app
    Then I see the login confirmation

  @UEPT-LOGIN-17 @SSI-NFR-36 @needs-operator
  Scenario: An emailed code is accepted until just before it expires
    Given I am the "unhurried email code user"
    When I open the SSI login page
    And I log in with my user name and password
    And the emailed code is a little younger than its validity period
    And I enter the code emailed to me
    Then I see the login confirmation

  @UEPT-LOGIN-18 @SSI-NFR-20 @needs-operator
  Scenario: A session idle for a little less than the inactivity timeout is still signed in
    Given I am the "nearly idle user"
    And I am signed in
    When my session stays idle for a little less than the inactivity timeout
    And I open the portal home page
    Then the SSI shows I am signed in as myself

  @UEPT-LOGIN-21 @SSI-NFR-36
  Scenario: A code used in an earlier time step stays refused for as long as the tolerance would accept it
    Given I am the "earlier step replay user"
    When I open the SSI login page
    And I log in with my user name and password
    And I enter the oldest code the SSI's time-step tolerance accepts
    Then I see the login confirmation
    When I sign out
    And I log in with my user name and password
    And I enter the same code again
    Then I see the verification error "This code has already been used"
    And I am not signed in

  # Real-clock variants of UEPT-LOGIN-10 and -07 for a real SSI, where no operator control can make time pass: they
  # wait the profile's time limit (15 and 5 minutes on the reference profile) plus a margin on the SSI's own clock.
  # `uept run` leaves them out unless --tags names @real-clock; each runs on a worker of its own.
  @UEPT-LOGIN-19 @SSI-NFR-20 @real-clock
  Scenario: An idle session expires once the inactivity timeout has passed on the real clock
    Given I am the "real-clock idle user"
    And I am signed in
    When my session stays idle, on the SSI's own clock, for longer than the inactivity timeout
    And I open the portal home page
    Then I am asked to log in again because my session expired

  @UEPT-LOGIN-20 @SSI-NFR-36 @real-clock
  Scenario: An emailed code is refused once its validity has passed on the real clock
    Given I am the "real-clock email code user"
    When I open the SSI login page
    And I log in with my user name and password
    And the emailed code's validity runs out on the SSI's own clock
    And I enter the code emailed to me
    Then I see the verification error "This code has expired"
    And I am not signed in
