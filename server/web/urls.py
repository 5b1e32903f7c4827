from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tasks/<uuid:task_id>/", views.task_page, name="task"),
    path("tasks/<uuid:task_id>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<uuid:task_id>/unclaim/", views.task_unclaim, name="task_unclaim"),
    path("tasks/<uuid:task_id>/assign/", views.task_assign, name="task_assign"),
    path("start/", views.start_menu, name="start"),
    path("start/<slug:key>/", views.start_form, name="start_form"),
    path("cases/", views.case_list, name="cases"),
    path("cases/<str:instance_id>/", views.case_page, name="case"),
    path("cases/<str:instance_id>/files/<int:seq>/<str:path>", views.case_file, name="case_file"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/bell/", views.notification_bell, name="bell"),
    path("notifications/read/", views.notification_read_all, name="notifications_read"),
    path("notifications/<int:notification_id>/", views.notification_open, name="notification"),
]
