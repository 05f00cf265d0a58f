from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("verify-email/resend/", views.verify_email_resend, name="verify_email_resend"),
    path("verify-email/<str:token>/", views.verify_email, name="verify_email"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<str:reference>/", views.request_detail, name="request_detail"),
    path("requests/<str:reference>/works/", views.request_upload, name="request_upload"),
    path("requests/<str:reference>/matches/", views.request_matches, name="request_matches"),
    path("requests/<str:reference>/submit/", views.request_submit, name="request_submit"),
    path("requests/<str:reference>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("requests/<str:reference>/status.json", views.request_status, name="request_status"),
    path("works/<int:work_id>/image/", views.work_image, name="work_image"),
]
