import AsyncHTTPClient
import XCTest
@testable import VoxEncServer
