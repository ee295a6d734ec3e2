"""One entry point to the SSI's page objects, plus whole user journeys built from them."""

from __future__ import annotations

from functools import cached_property

from playwright.sync_api import Page, expect

from uept.otp import OtpSource
from uept.profile import Profile
from uept.secrets import Secret

from .functions import Functions
from .login import LoginPage
from .mfa import MfaPage
from .password import PasswordChangePage
from .portal import MessagePage, PortalHome
from .profile import CompleteProfilePage, UserProfilePage
from .useradmin import UserFormPage, UserListPage


class SSI:
    def __init__(self, page: Page, profile: Profile) -> None:
        self.page = page
        self.profile = profile

    @cached_property
    def login(self) -> LoginPage:
        return LoginPage(self.page, self.profile)

    @cached_property
    def mfa(self) -> MfaPage:
        return MfaPage(self.page, self.profile)

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

    def sign_in(self, user_name: str, password: Secret, otp: OtpSource) -> None:
        """The whole ceremony: login page, password, verification code, portal home."""
        self.login.open()
        mark = getattr(otp, "mark", None)
        if mark:
            mark()
        self.login.sign_in(user_name, password)
        expect(self.mfa.code).to_be_visible()
        self.mfa.submit_code(otp.code())
        expect(self.home.sign_out_button).to_be_visible()
