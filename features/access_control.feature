@UEPT-ACCESS @BFD14 @SSI-NFR-2 @SSI-NFR-23 @SSI-NFR-24 @SSI-NFR-25 @SSI-NFR-26 @SSI-NFR-27 @one-worker-per-persona @one-page-per-worker
Feature: Every Job Type Role reaches exactly the functions the role matrix grants it
  Access to every SSI function follows the Job Type Role x functional component matrix
  (SEC Appendix AH; under FSM, DCC's SSI Functions and Roles Policy). This feature proves
  the matrix cell by cell: a function a role is granted is in that role's menu and its page
  opens; a function it is not granted is absent from the menu and its address answers 403
  with a readable page. Several roles combine as a union (see the credentials feature).

  The Examples of these outlines are not written here: uept generates them, when the suite
  is collected, from the role matrix of the target profile (ssi/profiles/role_matrix.yaml
  for the reference SSI), one row per cell, so changing the matrix changes these scenarios
  and nothing else. The completed feature is kept in the run's evidence folder
  (reports/<run-id>/features/access_control.feature). Each persona's rows run on one worker
  (@one-worker-per-persona), which reuses one browser context and one MFA login for them.

  @UEPT-ACCESS-01 @SSI-NFR-24
  Scenario Outline: A role is offered each function the role matrix grants it, and its page opens
    Given I am signed in as the "<persona>"
    Then the menu offers "<function>" and its page opens for me

    # uept:generate granted
    Examples: Cells the role matrix grants
      | persona | function | role |

  @UEPT-ACCESS-02 @SSI-NFR-22
  Scenario Outline: A role is not offered a function the role matrix withholds, and its address is refused
    Given I am signed in as the "<persona>"
    Then the menu does not offer "<function>" and its address is refused with a readable 403 page

    # uept:generate withheld
    Examples: Cells the role matrix withholds
      | persona | function | role |

  @UEPT-ACCESS-03 @SSI-FR-62 @SSI-FR-63 @PM25
  Scenario Outline: My profile says Yes exactly for the functions my Job Type Role grants
    Given I am signed in as the "<persona>"
    When I open my profile
    Then my profile lists the Job Type Role "<role>"
    And my profile says Yes exactly for the functions the role matrix grants my roles

    # uept:generate roles
    Examples: One row per Job Type Role
      | persona | role |

  @UEPT-ACCESS-04 @SSI-NFR-10
  Scenario Outline: A role without the Log In function cannot log in
    Given I am the "<persona>"
    When I open the SSI login page
    And I log in with my user name and password
    Then I am refused because my Job Type Roles do not give me access to the SSI

    # uept:generate no_log_in
    Examples: Roles the role matrix does not grant Log In (this outline is left out when there is none)
      | persona | role |
