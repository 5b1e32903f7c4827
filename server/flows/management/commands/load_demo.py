"""Demo data for `make run`: a site with units and owners, and one user per role."""

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from engine.roles import ROLES
from server.estate.models import Building, Resident, Site, Unit
from server.flows import demo

DEMO_PASSWORD = "propflow"
OWNERS = [
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄敏",
    "周杰",
    "吴婷",
    "徐强",
    "孙丽",
]


class Command(BaseCommand):
    help = "Load demo data (development only): a site, units, owners and one user per role."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data loads only in development (PROPFLOW_DEBUG=1).")
        with transaction.atomic():
            self._users()
            self._estate()
        cases = demo.load_cases()
        if cases:
            self.stdout.write(f"Demo cases: {cases} (every process, some escalated or overdue)")
        self.stdout.write(f"Demo users (password {DEMO_PASSWORD!r}):")
        self.stdout.write("  admin (superuser), " + ", ".join(r.key for r in ROLES))

    def _users(self):
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@propflow.local", DEMO_PASSWORD)
        for role in ROLES:
            user, created = User.objects.get_or_create(
                username=role.key,
                defaults={"first_name": role.name_zh, "email": f"{role.key}@propflow.local"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get(name=role.key))

    def _estate(self):
        site, _ = Site.objects.get_or_create(name="阳光花园")
        owner_names = iter(OWNERS)
        for b in (1, 2):
            building, _ = Building.objects.get_or_create(site=site, name=f"{b}栋")
            for floor in (1, 2, 3, 4):
                for room in (1, 2):
                    status = Unit.Status.OCCUPIED if room == 1 else Unit.Status.HANDED_OVER
                    if floor == 4:  # new units, for the move-in demo
                        status = Unit.Status.NOT_HANDED_OVER
                    unit, created = Unit.objects.get_or_create(
                        code=f"{b}-{floor}0{room}",
                        defaults={"building": building, "floor": floor,
                                  "area_m2": 89 + 10 * room, "status": status},
                    )  # fmt: skip
                    if created and floor < 4:
                        name = next(owner_names)
                        Resident.objects.create(
                            unit=unit, name=name, phone=f"1380000{b}{floor}{room}{len(name):02d}"
                        )
