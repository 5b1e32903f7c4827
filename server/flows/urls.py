from django.urls import path

from . import api

urlpatterns = [
    path("auth/token/", api.TokenApi.as_view()),
    path("processes/", api.ProcessListApi.as_view()),
    path("processes/<str:key>/", api.ProcessDetailApi.as_view()),
    path("instances/", api.InstanceListApi.as_view()),
    path("instances/<str:instance_id>/", api.InstanceDetailApi.as_view()),
    path("instances/<str:instance_id>/events/", api.InstanceEventsApi.as_view()),
    path("instances/<str:instance_id>/diagram/", api.InstanceDiagramApi.as_view()),
    path("instances/<str:instance_id>/cancel/", api.InstanceCancelApi.as_view()),
    path("tasks/", api.TaskListApi.as_view()),
    path("tasks/<str:task_id>/", api.TaskDetailApi.as_view()),
    path("tasks/<str:task_id>/claim/", api.TaskClaimApi.as_view()),
    path("tasks/<str:task_id>/unclaim/", api.TaskUnclaimApi.as_view()),
    path("tasks/<str:task_id>/assign/", api.TaskAssignApi.as_view()),
    path("tasks/<str:task_id>/complete/", api.TaskCompleteApi.as_view()),
    path("notifications/", api.NotificationListApi.as_view()),
    path("notifications/read/", api.NotificationReadApi.as_view()),
]
