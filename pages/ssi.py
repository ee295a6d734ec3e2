"""One entry point to the SSI's page objects (the journeys built from them are in pages/journeys.py)."""

from __future__ import annotations

from functools import cached_property

from playwright.sync_api import Page

from ssi.profile import Profile

from .entra import EntraSignIn
from .functions import Functions
from .incident import CreateIncidentPage, MyRequestsPage, TicketPage
from .login import LoginPage
from .mfa import MfaPage
from .oms import (
    ConsignmentPage,
    ForecastPage,
    OmsCatalogue,
    OmsHome,
    OrderForm,
    OrderPage,
    OrdersList,
    ReturnForm,
    ReturnPage,
    ReturnsList,
)
from .password import PasswordChangePage
from .portal import MessagePage, PortalHome
from .profile import CompleteProfilePage, UserProfilePage
from .requests import CatalogItemPage, CataloguePage, RequestTicketPage
from .useradmin import UserFormPage, UserListPage


class SSI:
    def __init__(self, page: Page, profile: Profile) -> None:
        self.page = page
        self.profile = profile

    def __repr__(self) -> str:  # shown as a step parameter in Allure
        return "SSI page objects"

    @cached_property
    def login(self) -> LoginPage:
        return LoginPage(self.page, self.profile)

    @cached_property
    def mfa(self) -> MfaPage:
        return MfaPage(self.page, self.profile)

    @cached_property
    def entra(self) -> EntraSignIn:
        return EntraSignIn(self.page, self.profile)

    @cached_property
    def home(self) -> PortalHome:
        return PortalHome(self.page, self.profile)

    @cached_property
    def complete_profile(self) -> CompleteProfilePage:
        return CompleteProfilePage(self.page, self.profile)

    @cached_property
    def user_profile(self) -> UserProfilePage:
        return UserProfilePage(self.page, self.profile)

    @cached_property
    def message(self) -> MessagePage:
        return MessagePage(self.page, self.profile)

    @cached_property
    def create_incident(self) -> CreateIncidentPage:
        return CreateIncidentPage(self.page, self.profile)

    @cached_property
    def ticket(self) -> TicketPage:
        return TicketPage(self.page, self.profile)

    @cached_property
    def my_requests(self) -> MyRequestsPage:
        return MyRequestsPage(self.page, self.profile)

    # ---- the service catalogue (BFD09)
    @cached_property
    def catalogue(self) -> CataloguePage:
        return CataloguePage(self.page, self.profile)

    @cached_property
    def catalog_item(self) -> CatalogItemPage:
        return CatalogItemPage(self.page, self.profile)

    @cached_property
    def request_ticket(self) -> RequestTicketPage:
        return RequestTicketPage(self.page, self.profile)

    # ---- the OMS module (BFD13)
    @cached_property
    def oms(self) -> OmsHome:
        return OmsHome(self.page, self.profile)

    @cached_property
    def oms_catalogue(self) -> OmsCatalogue:
        return OmsCatalogue(self.page, self.profile)

    @cached_property
    def oms_forecast(self) -> ForecastPage:
        return ForecastPage(self.page, self.profile)

    @cached_property
    def oms_order_form(self) -> OrderForm:
        return OrderForm(self.page, self.profile)

    @cached_property
    def oms_order(self) -> OrderPage:
        return OrderPage(self.page, self.profile)

    @cached_property
    def oms_orders(self) -> OrdersList:
        return OrdersList(self.page, self.profile)

    @cached_property
    def oms_consignment(self) -> ConsignmentPage:
        return ConsignmentPage(self.page, self.profile)

    @cached_property
    def oms_return_form(self) -> ReturnForm:
        return ReturnForm(self.page, self.profile)

    @cached_property
    def oms_return(self) -> ReturnPage:
        return ReturnPage(self.page, self.profile)

    @cached_property
    def oms_returns(self) -> ReturnsList:
        return ReturnsList(self.page, self.profile)

    @cached_property
    def functions(self) -> Functions:
        return Functions(self.page, self.profile)

    @cached_property
    def user_list(self) -> UserListPage:
        return UserListPage(self.page, self.profile)

    @cached_property
    def user_form(self) -> UserFormPage:
        return UserFormPage(self.page, self.profile)

    @cached_property
    def password_change(self) -> PasswordChangePage:
        return PasswordChangePage(self.page, self.profile)
