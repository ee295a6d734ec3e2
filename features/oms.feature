@UEPT-OMS @BFD13 @PM7
Feature: Forecast, order, receive and return Communications Hubs in the OMS
  UEPT theme 4, "basic OMS functionality". Under FSM, the Order Management System
  for 4G Communications Hubs (CHs), and for the returns of all SMETS2+ CHs, is a
  module of the SSI portal. A SEC Party user opens it from the SSI, submits CH
  forecasts, creates and confirms orders (with a tolerance exception when an order
  strays from the forecast), follows and amends deliveries, accepts or rejects them,
  and returns CHs, following each return to its triage outcome.

  DCC has published no OMS screens, fields or rules. The Regions, CH variants,
  auxiliary equipment, tolerance, forecast horizon, lock window, lead time, limits,
  reasons and status names come from the target profile (oms:). They are
  assumptions, to be replaced from DCC's UIT material.
  The returns scenarios carry @SSI-FR-82 to @SSI-FR-85. DCC's August 2025 FSM
  consultation names these MP252 (CH returns) requirements, but their text is not
  public. The tags therefore mark the area, not verified wording.
  DCC and the carriers also act: they dispatch, deliver, authorise, collect, receive
  and triage. The reference SSI drives these steps through its operator controls
  (@needs-operator). On a real SSI those scenarios are skipped, with the reason given.

  @UEPT-OMS-01 @SSI-FR-20 @SSI-FR-20a
  Scenario: Open the OMS from the SSI
    Given I am signed in as the "AMO user"
    When I open the OMS from the SSI home page
    Then the OMS home page is shown
    When I open the OMS catalogue
    Then it lists every Region, CH variant and auxiliary item of the target profile

  @UEPT-OMS-02
  Scenario: Submit a forecast and see it recorded
    Given I am signed in as the "AMO user"
    When I open the "North" forecast
    And I change the forecast of the first CH variant for a month after the lock window
    And I submit the forecast
    Then I see that a new forecast version was submitted
    And the forecast shows my quantity for that month
    And the version history lists my version with my quantity

  @UEPT-OMS-03
  Scenario: Forecast quantities that are negative or not whole numbers are refused
    Given I am signed in as the "AMO user"
    When I open the "North" forecast
    And I enter these forecasts of the second CH variant for months after the lock window:
      | quantity | message               |
      | -5       | cannot be negative    |
      | twelve   | is not a number       |
      | 7.5      | is not a whole number |
    And I submit the forecast
    Then each of those months shows its message
    And none of those forecasts has changed

  @UEPT-OMS-04
  Scenario: Months inside the lock window cannot be changed
    Given I am signed in as the "AMO user"
    When I open the "South" forecast
    Then every month inside the lock window is marked locked and cannot be changed
    And the first month after the lock window can be changed

  @UEPT-OMS-05
  Scenario: Create and confirm an order within the forecast tolerance
    Given I am signed in as the "AMO user"
    And our "Central" forecast of the first CH variant for a month after the lock window is 400
    When I order the first CH variant for "Central" in that month, within the forecast tolerance
    Then the order is saved as a Draft with a ServiceNow-style order number
    When I submit the order
    Then the order is Submitted
    And the order line is within the forecast tolerance
    When I confirm the order
    Then the order is Confirmed
    And its consignments are Scheduled

  @UEPT-OMS-06
  Scenario: An order outside the forecast tolerance needs a tolerance-exception justification
    Given I am signed in as the "AMO user"
    And our "Central" forecast of the second CH variant for a month after the lock window is 300
    When I order the second CH variant for "Central" in that month, beyond the forecast tolerance
    And I submit the order
    Then the order line is outside the forecast tolerance
    When I confirm the order without a justification
    Then I am asked for a tolerance-exception justification
    And the order is Submitted
    When I confirm the order with a justification
    Then the order is Confirmed
    And the order shows the tolerance exception and my justification

  @UEPT-OMS-07 @needs-operator
  Scenario: Amend the delivery date of a consignment before it is dispatched
    Given I am signed in as the "LOG user"
    And we have a confirmed order of 20 of the first auxiliary item for the "South" region
    When I open its first consignment
    And I amend the delivery date to a week later
    Then the consignment shows the new delivery date
    And the consignment is Scheduled
    When the carrier dispatches the consignment
    Then the delivery date can no longer be amended

  @UEPT-OMS-08 @needs-operator
  Scenario: Track a consignment to Delivered and accept it
    Given I am signed in as the "LOG user"
    And we have a confirmed order of 12 of the first CH variant for the "South" region
    When I open its first consignment
    Then the consignment is Scheduled
    When the carrier dispatches the consignment
    Then the consignment is Dispatched with a tracking reference
    When the carrier delivers the consignment
    Then the consignment is Delivered with the device ID of each of the 12 CHs
    When I accept the delivery
    Then the consignment is Accepted

  @UEPT-OMS-09 @needs-operator
  Scenario: Reject a delivery, giving the reason and the quantity rejected
    Given I am signed in as the "LOG user"
    And we have a delivered consignment of 20 of the first auxiliary item
    When I reject 25 of the delivered units because "Damaged in transit"
    Then I am told I can reject at most the 20 units delivered
    And the consignment is Delivered
    When I reject 3 of the delivered units because "Damaged in transit"
    Then the consignment is Rejected
    And it records 3 units rejected because "Damaged in transit"

  @UEPT-OMS-10 @SSI-FR-82 @SSI-FR-83 @SSI-FR-84 @SSI-FR-85 @needs-operator
  Scenario: Raise a return and follow it to its triage outcome
    Given I am signed in as the "LOG user"
    And our organisation holds 2 CHs that are not under return
    When I raise a return for both of them because "Faulty in life"
    Then the return is Requested and both devices are awaiting triage
    When DCC authorises the return
    Then the return is Authorised with an RMA number
    When the carrier collects the return
    And DCC receives the return
    Then the return is Received
    When DCC triages the first device as "Fault confirmed" and the second as "No fault found"
    Then the return is Triage and shows the outcome of each device
    When DCC closes the return
    Then the return is Closed

  @UEPT-OMS-11 @SSI-FR-82 @SSI-FR-83 @needs-operator
  Scenario: A return of an unknown device or of a device already under return is refused
    Given I am signed in as the "LOG user"
    And our organisation holds 2 CHs that are not under return
    And I have raised a return for the first of them
    When I raise a return for both of them and for a device ID that is not ours
    Then the device IDs field says the first device is already under return
    And the device IDs field says the unknown device is not a CH of our organisation
    And no return holds the second device

  @UEPT-OMS-18 @SSI-FR-82 @needs-operator
  Scenario: A return holds at most the profile's number of CHs: one more is refused, exactly that many are accepted
    Given I am signed in as the "LOG user"
    And our organisation holds one more CH than a return may hold, none under return
    When I raise a return for one more CH than a return may hold
    Then the device IDs field says a return holds at most that many CHs
    And no return holds any of them
    When I raise a return for as many CHs as a return may hold
    Then the return is Requested and every device in it is awaiting triage

  @UEPT-OMS-12
  Scenario: An order with bad quantities or delivery dates is refused and nothing is saved
    Given I am signed in as the "AMO user"
    When I start a new order for the "North" region to a new delivery location
    And I enter a delivery date in the past and these quantities:
      | item                  | quantity              | message            |
      | first CH variant      | 0                     | Enter at least 1   |
      | second CH variant     | -4                    | Enter at least 1   |
      | first auxiliary item  | 2.5                   | not a whole number |
      | second auxiliary item | more than the maximum | Enter at most      |
    And I save the order as a draft
    Then each of those quantities shows its message
    And the delivery date says it is in the past
    When I correct the quantities and enter a delivery date inside the lead time
    And I save the order as a draft
    Then the delivery date says it is inside the lead time
    And no order to that delivery location exists

  @UEPT-OMS-13 @SSI-FR-20 @SSI-NFR-23 @SSI-NFR-27
  Scenario: A role without OMS access cannot reach the OMS
    Given I am signed in as the "SM user"
    Then the SSI menu and home page offer no way into the OMS
    When I open the OMS by its address
    Then I am told I do not have access to this page

  @UEPT-OMS-14 @SSI-NFR-23
  Scenario: Another organisation cannot see our orders
    Given I am signed in as the "OA user"
    And we have a draft order for the "North" region
    And I am signed in as the "other organisation admin"
    When I open that order by its address
    Then I am told I am not authorized or the record is not valid
    And that order is not in my list of orders

  @UEPT-OMS-15
  Scenario Outline: An order exactly at the edge of the forecast tolerance is within it, and one unit more is not
    Given I am signed in as the "AMO user"
    And our "South" forecast of the <item> for a month after the lock window is 1000
    When I order the <item> for "South" in that month, <how> the forecast tolerance
    And I submit the order
    Then the order line is <where> the forecast tolerance

    Examples:
      | item              | how                    | where   |
      | first CH variant  | exactly at the edge of | within  |
      | second CH variant | one unit beyond        | outside |

  @UEPT-OMS-16
  Scenario: An order line of exactly the largest quantity allowed is accepted
    Given I am signed in as the "AMO user"
    When I start a new order for the "North" region to a new delivery location
    And I enter a delivery date after the lead time and the largest quantity allowed of the first auxiliary item
    And I save the order as a draft
    Then the order is saved as a Draft with a ServiceNow-style order number

  @UEPT-OMS-19 @SSI-FR-20
  Scenario Outline: A confirmed order line is split into consignments of at most the largest consignment allowed
    Given I am signed in as the "AMO user"
    And we have a confirmed order of <quantity> of the first CH variant for the "North" region
    Then its consignments hold the order's quantity, each at most the largest consignment allowed
    And its consignments are Scheduled

    Examples:
      | quantity                                   |
      | exactly the largest consignment            |
      | one unit more than the largest consignment |

  @UEPT-OMS-17 @SSI-FR-20
  Scenario: Markup typed into an order's delivery location is shown as text
    Given I am signed in as the "AMO user"
    When I save a draft order whose delivery location contains HTML and script
    Then the order shows the delivery location exactly as I typed it
    And nothing I typed became part of the page or ran
    When I look for that delivery location in my orders
    Then the list of orders shows the delivery location exactly as I typed it
    And nothing I typed became part of the page or ran
