"""Sites: create, edit, read, list and delete (refused while stations belong to it)."""

from __future__ import annotations

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.grpc.errors import InvalidArgument
from chargegrid.stations.api import validation as check
from chargegrid.stations.api.base import ApiBase, Context
from chargegrid.stations.api.convert import site_to_proto
from chargegrid.stations.store import sites
from chargegrid.stations.store.configuration import SITE, Scope, delete_scope
from chargegrid.stations.store.paging import next_token, page_of


class SitesApi(ApiBase):
    async def CreateSite(self, request: pb.CreateSiteRequest, context: Context) -> pb.Site:
        if not request.HasField("site"):
            raise InvalidArgument("site is required")
        site_id = check.optional_site_id(request.site.id, "site.id") or self.deps.new_id()
        fields = check.site_fields(request.site)
        async with self.deps.sessions() as session, session.begin():
            row = await sites.create_site(session, site_id, fields, self.deps.clock())
            return site_to_proto(row, 0)

    async def UpdateSite(self, request: pb.UpdateSiteRequest, context: Context) -> pb.Site:
        if not request.HasField("site"):
            raise InvalidArgument("site is required")
        site_id = check.site_id(request.site.id, "site.id")
        fields = check.site_fields(request.site)
        async with self.deps.sessions() as session, session.begin():
            row = await sites.update_site(session, site_id, fields)
            counts = await sites.station_counts(session, [site_id])
            return site_to_proto(row, counts.get(site_id, 0))

    async def GetSite(self, request: pb.GetSiteRequest, context: Context) -> pb.Site:
        site_id = check.site_id(request.site_id, "site_id")
        async with self.deps.sessions() as session:
            row = await sites.get_site(session, site_id)
            counts = await sites.station_counts(session, [site_id])
            return site_to_proto(row, counts.get(site_id, 0))

    async def ListSites(self, request: pb.ListSitesRequest, context: Context) -> pb.ListSitesReply:
        page = page_of(request.page)
        async with self.deps.sessions() as session:
            rows = await sites.list_sites(session, page)
            shown = rows[: page.size]
            counts = await sites.station_counts(session, [row.id for row in shown])
        return pb.ListSitesReply(
            sites=[site_to_proto(row, counts.get(row.id, 0)) for row in shown],
            next_page_token=next_token([row.id for row in rows], page),
        )

    async def DeleteSite(self, request: pb.DeleteSiteRequest, context: Context) -> pb.DeleteReply:
        site_id = check.site_id(request.site_id, "site_id")
        async with self.deps.sessions() as session, session.begin():
            await sites.delete_site(session, site_id)
            await delete_scope(session, Scope(SITE, site_id))
        return pb.DeleteReply()
