// Posts the sign-in response to the application, as Microsoft's page does once it has loaded.
document.forms.hiddenform.submit();
