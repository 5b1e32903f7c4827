from django.contrib.auth import views as auth_views
from django.urls import path

from .views import (
    audit,
    cases,
    desk,
    files,
    inbox,
    kpis,
    library,
    notifications,
    reports,
    roster,
    start,
    studio,
    tasks,
    trail,
)

app_name = "web"

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tasks/<uuid:task_id>/", tasks.task_page, name="task"),
    path("tasks/<uuid:task_id>/claim/", inbox.task_claim, name="task_claim"),
    path("tasks/<uuid:task_id>/unclaim/", inbox.task_unclaim, name="task_unclaim"),
    path("tasks/<uuid:task_id>/hand-back/", inbox.task_hand_back, name="task_hand_back"),
    path("tasks/<uuid:task_id>/assign/", inbox.task_assign, name="task_assign"),
    path("roster/", roster.roster_page, name="roster"),
    path("roster/<str:username>/", roster.roster_change, name="roster_change"),
    path("start/", start.start_menu, name="start"),
    path("start/<slug:key>/", start.start_form, name="start_form"),
    path("audit/", audit.audit_search, name="audit"),
    path("reports/complaints-daily/", reports.complaints_daily, name="report_daily"),
    path("reports/monthly/", reports.monthly_statistics, name="report_monthly"),
    path("registers/repairs/", reports.repair_register, name="register_repairs"),
    path("registers/complaints/", reports.complaint_register, name="register_complaints"),
    path("kpis/", kpis.kpi_dashboard, name="kpis"),
    path("kpis/targets/", kpis.kpi_targets, name="kpi_targets"),
    path("kpis/<slug:kpi>/cases/", kpis.kpi_cases, name="kpi_cases"),
    path("cases/", cases.case_list, name="cases"),
    path("cases/<str:instance_id>/", cases.case_page, name="case"),
    path("cases/<str:instance_id>/suspend/", cases.case_suspend, name="case_suspend"),
    path("cases/<str:instance_id>/resume/", cases.case_resume, name="case_resume"),
    path("cases/<str:instance_id>/terminate/", cases.case_terminate, name="case_terminate"),
    path("cases/<str:instance_id>/migrate/", cases.case_migrate, name="case_migrate"),
    path("audit/cases/<str:instance_id>/", trail.audit_case, name="audit_case"),
    path("files/<str:file_id>/", files.attachment, name="file"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/bell/", notifications.notification_bell, name="bell"),
    path("notifications/read/", notifications.notification_read_all, name="notifications_read"),
    path(
        "notifications/<int:notification_id>/", notifications.notification_open, name="notification"
    ),
    path("shift/", desk.shift_page, name="shift"),
    path("shift/items/<int:item_id>/", desk.shift_item_annotate, name="shift_item"),
    path("shift/<int:check_id>/complete/", desk.shift_complete, name="shift_complete"),
    path("shift/<int:check_id>/handover/", desk.shift_handover, name="shift_handover"),
    path(
        "shift/handovers/<int:handover_id>/acknowledge/",
        desk.handover_acknowledge,
        name="handover_acknowledge",
    ),  # fmt: skip
    path("hotline/", desk.hotline_page, name="hotline"),
    path("studio/", studio.studio_index, name="studio"),
    path("studio/upload/", library.library_upload, name="studio_upload"),
    path("studio/<slug:key>/", library.library_process, name="studio_process"),
    path("studio/<slug:key>/retire/", library.library_retire, name="studio_retire"),
    path(
        "studio/<slug:key>/versions/<int:version>/redeploy/",
        library.library_redeploy,
        name="studio_redeploy",
    ),  # fmt: skip
    path("studio/<slug:key>/edit/", studio.studio_edit, name="studio_edit"),
    path("studio/<slug:key>/form-preview/", studio.studio_form_preview, name="studio_form_preview"),
    path("studio/<slug:key>/diff/<int:a>/<int:b>/", studio.studio_diff, name="studio_diff"),
]
