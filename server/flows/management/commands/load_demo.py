"""Demo data for `make run`: a site with units and owners, and its staff on the roster."""

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from server.estate.models import Building, Resident, Site, Unit
from server.flows import demo
from server.staff.models import StaffProfile

DEMO_PASSWORD = "propflow"
# One person per role, named as colleagues call them, plus a second technician so that a
# dispatcher has someone to choose: (username, role, name, English name, trade, phone).
STAFF = [
    ("frontdesk", "frontdesk", "陈晓燕", "Chen Xiaoyan", "", "13900000101"),
    ("dispatcher", "dispatcher", "赵国华", "Zhao Guohua", "", "13900000102"),
    ("cs_supervisor", "cs_supervisor", "刘美玲", "Liu Meiling", "", "13900000103"),
    ("vice_gm", "vice_gm", "孙建平", "Sun Jianping", "", "13900000104"),
    ("property_manager", "property_manager", "周振华", "Zhou Zhenhua", "", "13900000105"),
    ("engineering", "engineering", "吴海涛", "Wu Haitao", "building", "13900000106"),
    ("technician", "technician", "李建国", "Li Jianguo", "building", "13900000107"),
    ("technician2", "technician", "王志强", "Wang Zhiqiang", "water_electric", "13900000108"),
    ("finance", "finance", "郑丽华", "Zheng Lihua", "", "13900000109"),
    ("security", "security", "马卫东", "Ma Weidong", "", "13900000110"),
    ("relations", "relations", "何静怡", "He Jingyi", "", "13900000111"),
    ("auditor", "auditor", "林志明", "Lin Zhiming", "", "13900000112"),
]
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
        self.stdout.write("  admin (superuser), " + ", ".join(s[0] for s in STAFF))

    def _users(self):
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@propflow.local", DEMO_PASSWORD)
        for username, role, name, name_en, trade, phone in STAFF:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": name, "email": f"{username}@propflow.local"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get(name=role))
            StaffProfile.objects.get_or_create(user=user, defaults={
                "display_name": name, "display_name_en": name_en, "trade": trade, "phone": phone,
            })  # fmt: skip

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
