"""Every path of the API (under ``/api/``), one operation class per method."""

from django.urls import path

from . import (
    audit,
    auth,
    cases,
    files,
    kpis,
    notifications,
    processes,
    reads,
    staff,
    studio,
    tasks,
    trail,
    units,
)

urlpatterns = [
    path("auth/token/", auth.TokenApi.as_view()),
    path("audit/cases/", audit.AuditCaseListApi.as_view()),
    path("audit/events/", audit.AuditEventListApi.as_view()),
    path("audit/cases/<str:instance_id>/trail/", trail.CaseTrailApi.as_view()),
    path("audit/cases/<str:instance_id>/record/", trail.CaseRecordApi.as_view()),
    path("kpis/", kpis.KpiListApi.as_view()),
    path("kpis/series/", kpis.KpiSeriesApi.as_view()),
    path("processes/", processes.ProcessListApi.as_view()),
    path("processes/<str:key>/", processes.ProcessDetailApi.as_view()),
    path("processes/<str:key>/versions/", studio.VersionListApi.as_view()),
    path("processes/<str:key>/versions/<int:version>/", studio.VersionDetailApi.as_view()),
    path(
        "processes/<str:key>/versions/<int:version>/package/", studio.VersionPackageApi.as_view()
    ),  # fmt: skip
    path("processes/<str:key>/versions/<int:version>/redeploy/", studio.RedeployApi.as_view()),
    path("processes/<str:key>/retire/", studio.RetireApi.as_view()),
    path("processes/<str:key>/draft/", studio.DraftApi.as_view()),
    path("processes/<str:key>/rehearse/", studio.RehearseApi.as_view()),
    path("instances/", cases.InstanceListApi.as_view()),
    path("instances/migrate/", cases.InstancesMigrateApi.as_view()),  # before <instance_id>
    path("instances/<str:instance_id>/", cases.InstanceDetailApi.as_view()),
    path("instances/<str:instance_id>/events/", cases.InstanceEventsApi.as_view()),
    path("instances/<str:instance_id>/diagram/", cases.InstanceDiagramApi.as_view()),
    path("instances/<str:instance_id>/reads/", reads.InstanceReadsApi.as_view()),
    path("instances/<str:instance_id>/cancel/", cases.InstanceCancelApi.as_view()),
    path("instances/<str:instance_id>/suspend/", cases.InstanceSuspendApi.as_view()),
    path("instances/<str:instance_id>/resume/", cases.InstanceResumeApi.as_view()),
    path("instances/<str:instance_id>/terminate/", cases.InstanceTerminateApi.as_view()),
    path("instances/<str:instance_id>/migrate/", cases.InstanceMigrateApi.as_view()),
    path("tasks/", tasks.TaskListApi.as_view()),
    path("tasks/<str:task_id>/", tasks.TaskDetailApi.as_view()),
    path("tasks/<str:task_id>/claim/", tasks.TaskClaimApi.as_view()),
    path("tasks/<str:task_id>/unclaim/", tasks.TaskUnclaimApi.as_view()),
    path("tasks/<str:task_id>/hand-back/", tasks.TaskHandBackApi.as_view()),
    path("tasks/<str:task_id>/assign/", tasks.TaskAssignApi.as_view()),
    path("tasks/<str:task_id>/complete/", tasks.TaskCompleteApi.as_view()),
    path("units/", units.UnitListApi.as_view()),
    path("files/<str:file_id>/", files.FileApi.as_view()),
    path("staff/", staff.StaffListApi.as_view()),
    path("staff/<str:username>/", staff.StaffDetailApi.as_view()),
    path("notifications/", notifications.NotificationListApi.as_view()),
    path("notifications/read/", notifications.NotificationReadApi.as_view()),
]
